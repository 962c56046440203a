/** What a signed-in person who is not an admin sees at an admin address. */
export function AdminOnly() {
  return (
    <main className="sign-in">
      <div className="sign-in__form" role="alert">
        <h1>Admins only</h1>
        <p>The admin pages are for admins. Your conversations and projects are in the chat.</p>
        <p>
          <a href="/">Open the chat</a>
        </p>
      </div>
    </main>
  );
}
