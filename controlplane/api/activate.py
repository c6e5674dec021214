"""``/activate``: the small web page where a TV's sign-in code is confirmed with email and
password (for a user with no signed-in app at hand). One form, no scripts, no cookies."""

from __future__ import annotations

import html

from aiohttp import web

from controlplane.api.auth import _login
from controlplane.api.pairing import decide, display_user_code, normalize_user_code
from controlplane.backend import BACKEND
from controlplane.errors import ApiError

routes = web.RouteTableDef()

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edgeplay: sign in a TV</title>
<style>
body {{ font-family: sans-serif; background: #141414; color: #eee; display: flex;
       justify-content: center; padding-top: 8vh; }}
main {{ width: min(26rem, 92vw); }}
h1 {{ font-size: 1.6rem; }}
label {{ display: block; margin-top: 1rem; }}
input {{ width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1.1rem;
        border-radius: 4px; border: 1px solid #555; background: #222; color: #fff; }}
input[name=code] {{ letter-spacing: .2em; text-transform: uppercase; }}
button {{ margin-top: 1.4rem; padding: .7rem 1.4rem; font-size: 1rem; border: 0;
         border-radius: 4px; }}
button[value=allow] {{ background: #e50914; color: #fff; }}
.note {{ padding: .8rem; border-radius: 4px; background: #333; }}
.error {{ background: #5c1a1a; }}
</style></head>
<body><main>
<h1>Sign in a TV</h1>
{note}
<form method="post" action="/activate">
<label>Code shown on your TV<input name="code" value="{code}" autocomplete="off"
  maxlength="12" required></label>
<label>Email<input name="email" type="email" value="{email}" autocomplete="username" required>
</label>
<label>Password<input name="password" type="password" autocomplete="current-password" required>
</label>
<button name="decision" value="allow">Sign in the TV</button>
<button name="decision" value="deny">It wasn't me</button>
</form>
</main></body></html>
"""

_DONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Edgeplay</title>
<style>body {{ font-family: sans-serif; background: #141414; color: #eee; text-align: center;
padding-top: 12vh; }}</style></head>
<body><h1>{headline}</h1><p>{text}</p></body></html>
"""


def _form(code: str = "", email: str = "", note: str = "", error: bool = False,
          status: int = 200) -> web.Response:
    block = (f'<p class="note{" error" if error else ""}">{html.escape(note)}</p>'
             if note else "")
    body = _PAGE.format(note=block, code=html.escape(code), email=html.escape(email))
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


@routes.get("/activate")
async def activate_form(request: web.Request) -> web.Response:
    code = normalize_user_code(request.query.get("code", ""))[:8]
    return _form(display_user_code(code) if code else "")


@routes.post("/activate")
async def activate(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    form = await request.post()
    code = str(form.get("code", ""))[:32]
    email = str(form.get("email", ""))[:200]
    password = str(form.get("password", ""))[:200]
    allow = str(form.get("decision", "allow")) != "deny"
    try:
        account_id = _login(b, {"email": email, "password": password})
        name = decide(b, code, account_id, allow)
    except ApiError as exc:
        status = 401 if exc.code == "bad_credentials" else exc.status
        return _form(code, email, exc.message[:1].upper() + exc.message[1:] + ".", error=True,
                     status=status)
    if not allow:
        text = f"{name} was not signed in. The code cannot be used again."
        return web.Response(text=_DONE.format(headline="Sign-in refused",
                                              text=html.escape(text)),
                            content_type="text/html", charset="utf-8")
    text = f"{name} is now signed in to {email}. You can put this page away."
    return web.Response(text=_DONE.format(headline="Your TV is signed in",
                                          text=html.escape(text)),
                        content_type="text/html", charset="utf-8")
