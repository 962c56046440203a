import { type FormEvent, useId, useState } from "react";
import { useStrings } from "./i18n";

/** The sign-in form: one token field; `notice` says why the person is here again (a refused token). */
export function SignIn({
  notice,
  onSignIn,
}: {
  notice: string | null;
  onSignIn: (token: string) => Promise<void>;
}) {
  const strings = useStrings();
  const [token, setToken] = useState("");
  const [isBusy, setBusy] = useState(false);
  const inputId = useId();
  const introId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) return;
    setBusy(true);
    try {
      await onSignIn(value);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="sign-in__form" onSubmit={submit} aria-describedby={introId}>
        <h1>{strings.appTitle}</h1>
        <h2>{strings.signInTitle}</h2>
        <p id={introId}>{strings.signInIntro}</p>
        {notice && (
          <p className="alert" role="alert">
            {notice}
          </p>
        )}
        <label htmlFor={inputId}>{strings.tokenLabel}</label>
        <input
          id={inputId}
          data-testid="token-input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(event) => setToken(event.target.value)}
        />
        <button type="submit" data-testid="sign-in-button" disabled={isBusy || !token.trim()}>
          {isBusy ? strings.signingIn : strings.signIn}
        </button>
      </form>
    </main>
  );
}
