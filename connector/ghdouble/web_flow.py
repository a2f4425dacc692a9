"""github.com's ``/login/oauth``: the Authorize page and the token endpoint, on the double.

Served at the host root even when the REST API has GitHub Enterprise Server's ``/api/v3`` prefix,
as GHES does. The Authorize page is plain HTML: pick who you are (the double has no sign-in of its
own), then Authorize or Cancel; its form posts the flow's parameters back. The token endpoint
takes its parameters from the query string, a form or a JSON body, and answers JSON
(``Accept: application/json``), XML (``application/xml``) or, by default, a form, as GitHub's
documentation says. Its errors come with status 200 and ``error``, ``error_description`` and
``error_uri``, which is what github.com does. Where the documentation is silent, the choice is
commented. Nothing here logs: requests carry codes, secrets and verifiers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape as xml_escape

from .records import RecordedRequest
from .users import OAuthApp, People, UserToken

__all__ = ["ACCESS_TOKEN", "AUTHORIZE", "WEB_PREFIX", "WebFlow", "WebReply", "is_web_path"]

WEB_PREFIX = "/login/oauth/"
AUTHORIZE = WEB_PREFIX + "authorize"
ACCESS_TOKEN = WEB_PREFIX + "access_token"
# What the double records each web-flow request as (they are not REST operations).
OPERATIONS = {("GET", AUTHORIZE): "oauth/authorize", ("POST", AUTHORIZE): "oauth/authorize-approve",
              ("POST", ACCESS_TOKEN): "oauth/access-token"}

_DOCS = "https://docs.github.com/apps"
_AUTH_ERRORS = f"{_DOCS}/managing-oauth-apps/troubleshooting-authorization-request-errors"
_TOKEN_ERRORS = f"{_DOCS}/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
_USER_TOKENS = f"{_DOCS}/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app"
_REFRESHING = f"{_DOCS}/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens"
# error -> (error_description, error_uri), GitHub's wording where it documents one.
ERRORS = {
    "redirect_uri_mismatch": ("The redirect_uri MUST match the registered callback URL for this application.",
                              f"{_AUTH_ERRORS}/#redirect-uri-mismatch"),
    "access_denied": ("The user has denied your application access.", f"{_AUTH_ERRORS}/#access-denied"),
    "invalid_request": ("code_challenge_method must be S256, with a 43-character code_challenge.", _USER_TOKENS),
    "incorrect_client_credentials": ("The client_id and/or client_secret passed are incorrect.",
                                     f"{_TOKEN_ERRORS}/#incorrect-client-credentials"),
    "bad_verification_code": ("The code passed is incorrect or expired.", f"{_TOKEN_ERRORS}/#bad-verification-code"),
    "bad_refresh_token": ("The refresh token passed is incorrect or expired.", _REFRESHING),
    "unsupported_grant_type": ("The grant type is not supported.", _REFRESHING),
}
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # BASE64URL(SHA256(verifier)) without padding
_FAVICON = "/favicon.ico"  # what a browser showing the Authorize page asks any site for, on its own
_FLOW_FIELDS = ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope")


def is_web_path(path: str) -> bool:
    """github.com's pages (the web flow, and a browser's icon request), not the REST API."""
    return path.startswith(WEB_PREFIX) or path == _FAVICON


@dataclass
class WebReply:
    status: int
    headers: dict[str, str]
    body: bytes
    note: str = ""  # why, for a page that is not a redirect (GitHubDouble.approve raises with it)


def _redirect(location: str) -> WebReply:
    return WebReply(302, {"location": location, "cache-control": "no-store"}, b"")


def _page(status: int, title: str, body: str, note: str = "") -> WebReply:
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{escape(title)}</title></head>"
            f"<body>{body}</body></html>")
    return WebReply(status, {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"},
                    page.encode(), note or title)


def _back(uri: str, values: dict[str, str | None]) -> WebReply:
    """A redirect to ``uri`` with ``values`` added to its query."""
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return _redirect(uri + ("&" if "?" in uri else "?") + query)


def _refusal(uri: str, error: str, state: str | None) -> WebReply:
    description, docs = ERRORS[error]
    return _back(uri, {"error": error, "error_description": description, "error_uri": docs, "state": state})


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _scopes(requested: str | None) -> str:
    """An OAuth App's requested scopes (space-separated) as GitHub answers them (comma-separated)."""
    return ",".join(dict.fromkeys(s for s in re.split(r"[\s,]+", requested or "") if s))


def parameters(rec: RecordedRequest) -> dict[str, str]:
    """The token endpoint's parameters: the query string, then a JSON or form body over it."""
    params = dict(rec.query)
    text = rec.raw_body.decode("utf-8", "replace").strip()
    if "json" in rec.headers.get("content-type", "") or text.startswith("{"):
        try:
            loaded = json.loads(text) if text else {}
        except ValueError:
            loaded = {}
        if isinstance(loaded, dict):
            params.update({str(k): str(v) for k, v in loaded.items() if v is not None})
    elif text:
        params.update(parse_qsl(text, keep_blank_values=True))
    return params


class WebFlow:
    def __init__(self, people: People) -> None:
        self.people = people

    def read(self, rec: RecordedRequest) -> None:
        """Name the request (``operation_id``) and parse its parameters into ``rec.body``; an
        unknown path is a schema error, as an unknown REST route is."""
        rec.operation_id = OPERATIONS.get((rec.method, rec.path))
        if rec.path == _FAVICON:
            rec.operation_id = "web/favicon.ico"  # a 404, and not the client's doing
        elif rec.operation_id is None:
            rec.schema_errors.append(f"no such route: {rec.method} {rec.path}")
        elif rec.method == "POST":
            rec.body = parameters(rec)

    def answer(self, rec: RecordedRequest) -> WebReply:
        if rec.operation_id == "oauth/authorize":
            return self.authorize_page(rec.query)
        if rec.operation_id == "oauth/authorize-approve":
            return self.decide(rec.body)
        if rec.operation_id == "oauth/access-token":
            return self.access_token(rec.body, rec.headers.get("accept", ""))
        return _page(404, "Not Found", "<h1>404</h1><p>This is not the web page you are looking for.</p>")

    # -- the Authorize page -----------------------------------------------------------------------
    def _checked(self, params: dict[str, str]) -> OAuthApp | WebReply:
        """The app the flow is for, or GitHub's answer to a flow it refuses before asking anyone."""
        app = self.people.apps.get(params.get("client_id", ""))
        if app is None:
            return _page(404, "Not Found", "<h1>404</h1><p>This OAuth application does not exist.</p>",
                         "unknown client_id")
        uri, state = params.get("redirect_uri"), params.get("state")
        if uri and not app.accepts_callback(uri):
            return _refusal(app.callback_urls[0], "redirect_uri_mismatch", state)
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if (challenge or method) and (method != "S256" or not _CHALLENGE.fullmatch(challenge or "")):
            # GitHub documents S256 as the only method and the challenge as needed when a method is
            # sent, but not what it answers otherwise. The double refuses the flow as OAuth's
            # invalid_request, at the callback (where GitHub sends its other authorization errors).
            # A challenge without a method is refused too: RFC 7636 makes that method "plain".
            return _refusal(uri or app.callback_urls[0], "invalid_request", state)
        return app

    def authorize_page(self, params: dict[str, str]) -> WebReply:
        app = self._checked(params)
        if isinstance(app, WebReply):
            return app
        wanted = params.get("login", "").lower()
        with self.people.lock:
            logins = sorted((user.login for user in self.people.users.values()), key=str.lower)
        options = "".join(f'<option value="{escape(login)}"{" selected" if login.lower() == wanted else ""}>'
                          f"{escape(login)}</option>" for login in logins)
        hidden = "".join(f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
                         for name in _FLOW_FIELDS if params.get(name))
        callback = params.get("redirect_uri") or app.callback_urls[0]
        body = (f"<h1>Authorize {escape(app.name)}</h1>"
                f"<p>{escape(app.name)} would act on GitHub as you. Authorizing will redirect to "
                f"<code>{escape(callback)}</code>.</p>"
                f'<form method="post" action="{AUTHORIZE}">{hidden}'
                f'<label for="login">Signed in as</label> <select name="login" id="login">{options}</select> '
                '<button type="submit" name="decision" value="authorize" id="authorize">Authorize</button> '
                '<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></form>')
        return _page(200, f"Authorize {app.name}", body)

    def decide(self, form: dict[str, str]) -> WebReply:
        """The Authorize page's answer: a code for the chosen person, or the refusal."""
        app = self._checked(form)
        if isinstance(app, WebReply):
            return app
        uri, state = form.get("redirect_uri") or None, form.get("state")
        callback = uri or app.callback_urls[0]  # without redirect_uri, the first registered one
        if form.get("decision") != "authorize":
            return _refusal(callback, "access_denied", state)
        user = self.people.user(form.get("login", ""))
        if user is None:
            return _page(400, "Unknown user", "<h1>No such user on this GitHub</h1>",
                         f"no user {form.get('login', '')!r} on the double")
        scope = "" if app.kind == "github_app" else _scopes(form.get("scope"))
        code = self.people.new_code(app, uri, form.get("code_challenge") or None, user.login, scope)
        return _back(callback, {"code": code, "state": state})

    # -- the token endpoint -----------------------------------------------------------------------
    def access_token(self, params: dict[str, str], accept: str) -> WebReply:
        answer = self._token_answer(params)
        if "application/json" in accept:
            return WebReply(200, {"content-type": "application/json; charset=utf-8"}, json.dumps(answer).encode())
        if "application/xml" in accept:
            fields = "".join(f"<{k}>{xml_escape(str(v))}</{k}>" for k, v in answer.items())
            return WebReply(200, {"content-type": "application/xml; charset=utf-8"}, f"<OAuth>{fields}</OAuth>".encode())
        return WebReply(200, {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
                        urlencode(answer).encode())

    def _token_answer(self, params: dict[str, str]) -> dict[str, Any]:
        app = self.people.apps.get(params.get("client_id", ""))
        if app is None or not hmac.compare_digest(app.client_secret.encode(), params.get("client_secret", "").encode()):
            return _error("incorrect_client_credentials")
        grant_type = params.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            rotated = self.people.rotate(app, params.get("refresh_token", ""))
            return _error("bad_refresh_token") if rotated is None else self._token_view(rotated)
        if grant_type != "authorization_code":
            return _error("unsupported_grant_type")
        # The code is used up by this attempt whatever its outcome (a wrong verifier included), so
        # a leaked code cannot be tried twice; GitHub does not document this either way.
        code = self.people.redeem(app, params.get("code", ""))
        if code is None:
            return _error("bad_verification_code")
        uri = params.get("redirect_uri")
        if uri and (not app.accepts_callback(uri) or (code.redirect_uri is not None and uri != code.redirect_uri)):
            return _error("redirect_uri_mismatch")
        verifier = params.get("code_verifier", "")
        if code.challenge is not None and not hmac.compare_digest(s256(verifier).encode(), code.challenge.encode()):
            # A missing or wrong verifier: GitHub documents no error of its own for it, and answers
            # a code that does not redeem with bad_verification_code, so the double does too.
            return _error("bad_verification_code")
        return self._token_view(self.people.issue(app, code.login, code.scope))

    def _token_view(self, token: UserToken) -> dict[str, Any]:
        answer: dict[str, Any] = {"access_token": token.access_token}
        if token.refresh_token is not None:
            answer.update(expires_in=self.people.user_token_seconds, refresh_token=token.refresh_token,
                          refresh_token_expires_in=self.people.refresh_token_seconds)
        return {**answer, "scope": token.scope, "token_type": "bearer"}


def _error(error: str) -> dict[str, Any]:
    description, docs = ERRORS[error]
    return {"error": error, "error_description": description, "error_uri": docs}
