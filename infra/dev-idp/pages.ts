/**
 * The development IdP's own pages: sign-in, the sign-out question and its answer. Plain HTML
 * forms with no script, readable in light and dark, so that a browser test can run axe-core on
 * them like on the console.
 */

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f4f6f8;color:#1b1f24}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0003;width:min(22rem,90vw)}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #68707a;border-radius:4px}
button{margin-top:1.2rem;width:100%;padding:.6rem;font:inherit;font-weight:600;background:#0b5cad;color:#fff;border:0;border-radius:4px;cursor:pointer}
button.secondary{margin-top:.6rem;background:transparent;color:#0b5cad;border:1px solid #0b5cad}
button:focus-visible,input:focus-visible{outline:3px solid #f0a000;outline-offset:2px}.error{color:#a4000f;font-weight:600}
p.hint{color:#4b535c;font-size:.9rem}
@media (prefers-color-scheme:dark){body{background:#101418;color:#e6e9ec}main{background:#1b2026;box-shadow:none}input{background:#101418;color:#e6e9ec;border-color:#8a939c}p.hint{color:#aab2ba}.error{color:#ff8a8a}button.secondary{color:#8cc4ff;border-color:#8cc4ff}}`;

function frame(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} — development IdP</title><style>${STYLE}</style></head><body><main>
${body}</main></body></html>`;
}

/** The sign-in form of interaction `uid`, for `clientId`, with an error from the last attempt. */
export function signInPage(uid: string, clientId: string, error?: string): string {
  return frame('Sign in', `<h1>Sign in</h1><p class="hint">Development IdP. <strong>${escapeHtml(clientId)}</strong> asks you to sign in.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="username">User name</label><input id="username" name="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>`);
}

/**
 * The question oidc-provider asks before ending a session (RP-initiated logout). `form` is the
 * provider's hidden form (`op.logoutForm`, with its anti-forgery value); the buttons submit it,
 * `logout=yes` ending the session.
 */
export function signOutPage(form: string): string {
  return frame('Sign out', `<h1>Sign out of the development IdP?</h1>
<p class="hint">The application you used has signed you out. Signing out here too means the next sign-in asks who you are.</p>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

/** Shown after a sign-out that named no page to return to. */
export function signedOutPage(): string {
  return frame('Signed out', '<h1>Signed out</h1><p>You are signed out of the development IdP.</p>');
}
