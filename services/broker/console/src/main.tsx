import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app.js';
import { completeSignIn, endIdpSession, signIn, SIGNED_OUT_STATE, type ConsoleConfig, type Session } from './auth.js';

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out'; config: ConsoleConfig; message?: string; forceLogin: boolean }
  | { kind: 'signed-in'; config: ConsoleConfig; session: Session }
  | { kind: 'broken'; message: string };

const SIGNED_OUT_HERE = 'You are signed out of the console: the token was only in this page\'s memory and is gone.';
// The IdP sends the browser back whichever answer the operator gave there, so the page says what it knows.
const SIGNED_OUT = `${SIGNED_OUT_HERE} The IdP was asked to end your session there too: unless you chose to stay signed in, the next sign-in asks who you are.`;

function Root() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    void (async () => {
      let config: ConsoleConfig;
      try {
        const res = await fetch('/console/config.json', { cache: 'no-store' });
        config = await res.json() as ConsoleConfig;
      } catch (err) {
        setState({ kind: 'broken', message: `cannot read /console/config.json: ${(err as Error).message}` });
        return;
      }
      if (location.pathname === '/console/callback') {
        try {
          setState({ kind: 'signed-in', config, session: await completeSignIn(config) });
        } catch (err) {
          history.replaceState(null, '', '/console/');
          setState({ kind: 'signed-out', config, message: `Sign-in failed: ${(err as Error).message}`, forceLogin: true });
        }
        return;
      }
      if (new URLSearchParams(location.search).get('state') === SIGNED_OUT_STATE) {
        // Back from the IdP's sign-out question (RP-initiated logout).
        history.replaceState(null, '', '/console/');
        setState({ kind: 'signed-out', config, message: SIGNED_OUT, forceLogin: false });
        return;
      }
      setState({ kind: 'signed-out', config, forceLogin: false });
    })();
  }, []);

  if (state.kind === 'loading') return <main class="boot"><h1>Operator console</h1><p>Loading…</p></main>;
  if (state.kind === 'broken') return <main class="boot"><h1>Operator console</h1><p class="error" role="alert">{state.message}</p></main>;
  if (state.kind === 'signed-in') {
    const { config, session } = state;
    const onSignOut = (asked?: boolean) => {
      if (!asked) {
        // The token expired or the broker refused it: the IdP session may well still be good.
        setState({ kind: 'signed-out', config, message: 'Your session ended: the IdP token expired or the broker no longer accepts it. Sign in again.', forceLogin: false });
        return;
      }
      setState({ kind: 'signed-out', config, message: 'Signing out at the IdP…', forceLogin: true });
      void endIdpSession(config, session).then((leaving) => {
        if (!leaving) setState({ kind: 'signed-out', config, message: `${SIGNED_OUT_HERE} The IdP offers no sign-out, so the next sign-in asks for a user name again.`, forceLogin: true });
      }, (err: Error) => setState({ kind: 'signed-out', config, message: `${SIGNED_OUT_HERE} Signing out at the IdP failed (${err.message}); the next sign-in asks for a user name again.`, forceLogin: true }));
    };
    return <App config={config} session={session} onSignOut={onSignOut} />;
  }
  const { config } = state;
  return (
    <main class="boot" id="main">
      <h1>Genesys token broker <span class="muted">operator console</span></h1>
      {state.message && <p role="status" data-testid="signed-out">{state.message}</p>}
      <p>Profiles, leases and notification streams, live; rotate, revoke and release with confirmation. For operators with administrator rights at the broker.</p>
      {config.clientId
        ? <button type="button" class="primary" onClick={() => void signIn(config, { forceLogin: state.forceLogin }).catch((err: Error) => setState({ ...state, message: err.message }))}>Sign in with {new URL(config.issuer).host}</button>
        : <p class="error" role="alert">Sign-in is not configured: set <code>console.clientId</code> (a public client at {config.issuer}) in the broker configuration.</p>}
    </main>
  );
}

render(<Root />, document.getElementById('app')!);
