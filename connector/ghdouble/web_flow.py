"""github.com's ``/login/oauth``: the authorization page and the token endpoint, on the double.

Served at the host root even when the REST API has GitHub Enterprise Server's ``/api/v3`` prefix,
as GHES does. The authorization page is plain HTML: pick who you are (the double has no sign-in
of its own), then Authorize or Cancel. The token endpoint takes its parameters from the query
string, a form or a JSON body, answers JSON when asked (``Accept: application/json``) and a form
otherwise, and reports errors with status 200 and an ``error`` field, as github.com does. Where
GitHub's documentation is silent, the choices are commented.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl, urlencode

from .users import OAuthApp, People, UserToken

__all__ = ["WEB_PREFIX", "WebFlow", "WebReply", "is_web_path", "web_operation"]

WEB_PREFIX = "/login/oauth/"
_DOCS = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"


def is_web_path(path: str) -> bool:
    """github.com's pages: the web flow, and the icon a browser asks any site for."""
    return path.startswith(WEB_PREFIX) or path == "/favicon.ico"


def web_operation(method: str, path: str) -> str:
    """What the request log calls a web request (REST requests carry GitHub's operationId)."""
    if path == WEB_PREFIX + "authorize":
        return "oauth/authorize" if method == "GET" else "oauth/authorize-approve"
    return "oauth/access-token" if path == WEB_PREFIX + "access_token" else "web" + path


@dataclass
class WebReply:
    status: int
    headers: dict[str, str]
    body: bytes


def _redirect(location: str) -> WebReply:
    return WebReply(302, {"location": location, "cache-control": "no-store"}, b"")


def _html(status: int, title: str, body: str) -> WebReply:
    page = f"<!doctype html><html><head><title>{escape(title)}</title></head><body>{body}</body></html>"
    return WebReply(status, {"content-type": "text/html; charset=utf-8"}, page.encode())


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode({k: v for k, v in values.items() if v is not None})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class WebFlow:
    def __init__(self, people: People) -> None:
        self.people = people

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes) -> WebReply:
        if path == WEB_PREFIX + "authorize" and method == "GET":
            return self.authorize_page(query)
        if path == WEB_PREFIX + "authorize" and method == "POST":
            return self.decide(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
        if path == WEB_PREFIX + "access_token" and method == "POST":
            return self.access_token(query, headers, body)
        return _html(404, "Not Found", "<h1>Not Found</h1>")

    # -- the authorization page ------------------------------------------------------------------
    def _checked(self, params: dict[str, str]) -> tuple[OAuthApp | None, WebReply | None]:
        app = self.people.apps.get(params.get("client_id", ""))
        if app is None:
            return None, _html(404, "Not Found", "<h1>404</h1><p>This application does not exist.</p>")
        uri = params.get("redirect_uri")
        if uri and not app.accepts_callback(uri):
            return app, _redirect(_with_query(app.callback_urls[0], {
                "error": "redirect_uri_mismatch", "state": params.get("state"),
                "error_description": "The redirect_uri MUST match the registered callback URL for this application."}))
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "", "S256"):
            # GitHub documents S256 as the only method; what it answers to another is not
            # documented, so the double refuses it as an invalid request, back at the callback.
            return app, _redirect(_with_query(uri or app.callback_urls[0], {
                "error": "invalid_request", "state": params.get("state"),
                "error_description": "code_challenge_method must be S256"}))
        return app, None

    def authorize_page(self, params: dict[str, str]) -> WebReply:
        app, refusal = self._checked(params)
        if refusal is not None:
            return refusal
        assert app is not None
        wanted = params.get("login", "").lower()
        with self.people.lock:
            users = sorted(self.people.users.values(), key=lambda user: user.login.lower())
        options = "".join(f'<option value="{escape(user.login)}"{" selected" if user.login.lower() == wanted else ""}>'
                          f"{escape(user.login)}</option>" for user in users)
        hidden = "".join(f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
                         for name, value in params.items()
                         if name in ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"))
        body = (f"<h1>Authorize {escape(app.name)}</h1><form method=\"post\" action=\"/login/oauth/authorize\">{hidden}"
                f'<label for="login">Signed in as</label> <select name="login" id="login">{options}</select>'
                '<button type="submit" name="decision" value="authorize" id="authorize">Authorize</button>'
                '<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></form>')
        return _html(200, f"Authorize {app.name}", body)

    def decide(self, form: dict[str, str]) -> WebReply:
        app, refusal = self._checked(form)
        if refusal is not None:
            return refusal
        assert app is not None
        callback = form.get("redirect_uri") or app.callback_urls[0]
        if form.get("decision") != "authorize":
            return _redirect(_with_query(callback, {
                "error": "access_denied", "state": form.get("state"),
                "error_description": "The user has denied your application access."}))
        user = self.people.user(form.get("login", ""))
        if user is None:
            return _html(400, "Unknown user", "<h1>No such user on this double</h1>")
        code = self.people.new_code(app.client_id, form.get("redirect_uri") or None,
                                    form.get("code_challenge") or None, user.login)
        return _redirect(_with_query(callback, {"code": code, "state": form.get("state")}))

    # -- the token endpoint ----------------------------------------------------------------------
    def access_token(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> WebReply:
        params = dict(query)
        kind = headers.get("content-type", "")
        text = body.decode("utf-8", "replace")
        if "json" in kind and text.strip():
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = {}
            params.update({k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {})
        elif text.strip():
            params.update(dict(parse_qsl(text, keep_blank_values=True)))
        as_json = "application/json" in headers.get("accept", "")
        answer = self._token_answer(params)
        if as_json:
            return WebReply(200, {"content-type": "application/json; charset=utf-8"}, json.dumps(answer).encode())
        return WebReply(200, {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
                        urlencode({k: str(v) for k, v in answer.items()}).encode())

    def _token_answer(self, params: dict[str, str]) -> dict[str, object]:
        app = self.people.apps.get(params.get("client_id", ""))
        if app is None or not hmac.compare_digest(app.client_secret, params.get("client_secret", "")):
            return _error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
        grant_type = params.get("grant_type")
        if grant_type == "refresh_token":
            return self._refresh(app, params.get("refresh_token", ""))
        if grant_type not in (None, "", "authorization_code"):
            return _error("unsupported_grant_type", f"grant_type {grant_type} is not supported here.")
        with self.people.lock:
            code = self.people.codes.get(params.get("code", ""))
            usable = (code is not None and not code.used and code.client_id == app.client_id
                      and code.expires > time.time())
            if code is not None:
                code.used = True  # a code works once, whatever the outcome
        if not usable or code is None:
            return _error("bad_verification_code", "The code passed is incorrect or expired.")
        uri = params.get("redirect_uri")
        if uri and (not app.accepts_callback(uri) or (code.redirect_uri and uri != code.redirect_uri)):
            return _error("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for "
                                                   "this application.")
        if code.challenge is not None:
            verifier = params.get("code_verifier", "")
            # A wrong or missing verifier: GitHub's documented error for a code that does not
            # redeem is bad_verification_code, which is what the double answers.
            if not verifier or not hmac.compare_digest(_s256(verifier), code.challenge):
                return _error("bad_verification_code", "The code passed is incorrect or expired.")
        return _token_view(app, self.people.issue(app, code.login), self.people)

    def _refresh(self, app: OAuthApp, value: str) -> dict[str, object]:
        with self.people.lock:
            old = self.people.by_refresh_token(value) if value else None
            usable = (old is not None and not old.revoked and old.client_id == app.client_id
                      and (old.refresh_expires_at or 0) > time.time())
            if old is not None and usable:
                old.revoked = True  # the old refresh token and its access token stop working
        if not usable or old is None:
            return _error("bad_refresh_token", "The refresh token passed is incorrect or expired.")
        return _token_view(app, self.people.issue(app, old.login), self.people)


def _error(code: str, description: str) -> dict[str, object]:
    return {"error": code, "error_description": description, "error_uri": _DOCS}


def _token_view(app: OAuthApp, token: UserToken, people: People) -> dict[str, object]:
    answer: dict[str, object] = {"access_token": token.access_token, "token_type": "bearer",
                                 "scope": "" if app.kind == "github_app" else "repo"}
    if token.refresh_token is not None:
        answer.update(expires_in=people.user_token_seconds, refresh_token=token.refresh_token,
                      refresh_token_expires_in=people.refresh_token_seconds)
    return answer
