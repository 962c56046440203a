import type { ChatMessage } from "./contract";
import { useStrings } from "./i18n";
import { linkify, safeHref } from "./messages";

/** Text with its web addresses as links; everything else stays text (never parsed as markup). */
export function LinkedText({ text }: { text: string }) {
  return (
    <>
      {linkify(text).map((part, index) =>
        part.href ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: parts of one fixed text, never reordered
          <a key={index} href={part.href} target="_blank" rel="noopener noreferrer">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </>
  );
}

/** One message: the person's on the right, the Product Owner's on the left, system ones apart. */
export function MessageItem({ message }: { message: ChatMessage }) {
  const strings = useStrings();
  const kind = strings.kinds[message.kind];
  const links = message.links.flatMap((link) => {
    const href = safeHref(link.url);
    return href ? [{ href, label: link.label || link.url }] : [];
  });
  return (
    <li
      className={`message message--${message.role} message--${message.kind}`}
      data-testid="message"
      data-role={message.role}
      data-kind={message.kind}
      data-message-id={message.id}
    >
      <p className="message__meta">
        <span className="message__author">{strings.roles[message.role]}</span>
        {kind && <span className="message__kind">{kind}</span>}
        <time dateTime={message.editedAt ?? message.createdAt}>
          {formatTime(message.editedAt ?? message.createdAt, strings.locale)}
        </time>
      </p>
      <p className="message__text">
        <LinkedText text={message.text} />
      </p>
      {links.length > 0 && (
        <ul className="message__links">
          {links.map((link) => (
            <li key={link.href}>
              <a href={link.href} target="_blank" rel="noopener noreferrer">
                {link.label}
              </a>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

function formatTime(iso: string, locale: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ""
    : date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}
