"""The pages a person sees while signing in: the consent page and the error page.

Small, accessible HTML with no JavaScript: the client and where it sends the person back, the
access asked for in plain words, a field for an API key, and two buttons. Every value is escaped;
the page may not be framed (``frame-ancestors 'none'``), loads nothing from elsewhere, and its
only style is inline, allowed by its hash in a strict Content-Security-Policy.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from html import escape
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

__all__ = ["SCOPE_WORDS", "consent_page", "error_page"]

SCOPE_WORDS = {
    "prs:read": "Read pull requests",
    "prs:write": "Comment on pull requests and add labels to them",
    "dispatch": "Start GitHub Actions workflows (repository_dispatch and workflow_dispatch)",
    "runs:read": "See workflow runs, their jobs, how they ended and their logs",
    "runs:write": "Rerun workflow runs",
    "runs:cancel": "Cancel workflow runs",
}

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f8fa;color:#1f2328}"
    "main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}"
    "h1{font-size:1.4rem;margin-top:0}ul{padding-left:1.25rem}label{display:block;font-weight:600;margin-top:1rem}"
    "input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;margin-top:.25rem}"
    ".actions{display:flex;gap:.75rem;margin-top:1.5rem}button{font:inherit;padding:.5rem 1rem;border-radius:6px;"
    "border:1px solid #d0d7de;background:#f6f8fa;cursor:pointer}button.allow{background:#1f883d;color:#fff;"
    "border-color:#1a7f37}.error{border-left:4px solid #cf222e;background:#ffebe9;padding:.5rem .75rem}"
    ".note{color:#59636e;font-size:.9rem}code{word-break:break-all}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()


def _headers(form_targets: Iterable[str] = ()) -> dict[str, str]:
    # Chrome applies form-action to the redirect after the POST too, so the client's origin is listed.
    targets = " ".join(["'self'", *sorted(set(form_targets))])
    return {
        "Content-Security-Policy": (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action {targets}; "
                                    "frame-ancestors 'none'; base-uri 'none'"),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def _page(title: str, body: str, *, status: int = 200, form_targets: Iterable[str] = ()) -> HTMLResponse:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers=_headers(form_targets))


def consent_page(*, client_name: str, redirect_uri: str, scopes: Iterable[str], transaction: str, csrf: str,
                 error: str | None = None, status: int = 200, github_origin: str | None = None) -> HTMLResponse:
    """The page; with ``github_origin`` (signing in with GitHub is on) it offers that first."""
    host = urlsplit(redirect_uri).netloc
    asked = list(scopes)
    items = "".join(f"<li>{escape(SCOPE_WORDS.get(scope, scope))} <span class=note>({escape(scope)})</span></li>"
                    for scope in asked) or "<li>Everything you may do through this connector</li>"
    alert = f'<p class=error role=alert id=problem>{escape(error)}</p>' if error else ""
    described = ' aria-describedby="problem"' if error else ""
    body = (
        f"<h1>Allow {escape(client_name)} to use this GitHub connector?</h1>{alert}"
        f"<p>After you allow it, you are sent back to <strong>{escape(host)}</strong>.</p>"
        f"<p>It asks to:</p><ul>{items}</ul>"
        "<p class=note>It gets at most what you may do here, on the repositories you are allowed, "
        "and nothing after you revoke it.</p>"
        '<form method="post" action="/oauth/authorize">'
        f'<input type="hidden" name="transaction" value="{escape(transaction)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f"{_github_choice(client_name) if github_origin else ''}"
        '<label for="api_key">Your connector API key</label>'
        f'<input type="password" id="api_key" name="api_key" autocomplete="off" required{described}>'
        '<p class=note>The operator of this connector gave you the key. It is checked here and never sent '
        f"to {escape(client_name)}.</p>"
        '<div class="actions"><button class="allow" type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny" formnovalidate>Deny</button></div></form>'
    )
    origin = f"{urlsplit(redirect_uri).scheme}://{host}"
    targets = [origin, github_origin] if github_origin else [origin]
    return _page(f"Allow {client_name}?", body, status=status, form_targets=targets)


def _github_choice(client_name: str) -> str:
    # A submit button of the same form, so the CSRF check is the same; formnovalidate because the
    # key field is required only for the other way in.
    return ('<div class="actions"><button class="allow" type="submit" name="decision" value="github" '
            'id="github" formnovalidate>Sign in with GitHub</button></div>'
            f"<p class=note>{escape(client_name)} then acts on GitHub as you, with your own GitHub permissions, "
            "within what this connector allows. Or sign in with an API key:</p>")


def error_page(problem: str, what_to_do: str, *, status: int = 400) -> HTMLResponse:
    body = (f"<h1>This sign-in cannot go on</h1><p class=error role=alert>{escape(problem)}</p>"
            f"<p>{escape(what_to_do)}</p>")
    return _page("Sign-in problem", body, status=status)
