/**
 * The behaviour every ChatChannel shares, run against each (Telegram against the fake Bot API over
 * real HTTP, the web chat on its store). Messages reach a channel the way they do in the system:
 * stored in a conversation and delivered by the outbox; a few cases call the channel directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore } from "../../test/support/store.js";
import type { ChatButton, ChatChannelKind } from "../contracts/index.js";
import { createLogger, SecretRedactor } from "../observability/index.js";
import type { Store } from "../store/index.js";
import {
  type ChatChannel,
  type ChatInbox,
  DeliveryError,
  type InboundMessage,
  type InboundPress,
  type OutboundMessage,
} from "./channel.js";
import { ChatFeed } from "./feed.js";
import { Outbox } from "./outbox.js";

/** One message as the person sees it in the chat. */
export interface SeenMessage {
  /** Stays the same when the message is edited in place. */
  id: string;
  /** The text as shown (markup gone). */
  text: string;
  /** Shown without any markup (a plain-text retry, or a channel without markup). */
  isPlain: boolean;
  /** Words shown bold, and as code. */
  bold: string[];
  code: string[];
  /** The `data` of the buttons under it. */
  buttons: string[];
}

/** What a channel's harness adds when the channel meets faults of its own service. */
export interface ChannelFaults {
  /** The next send is refused for its markup, as Telegram refuses HTML it cannot parse. */
  rejectMarkupNext(): void;
  /** The next send is refused with a rate limit asking to wait `retryAfterS` seconds. */
  rateLimitNext(retryAfterS: number): void;
  /** The next typing action fails. */
  failTypingNext(): void;
  /** How many sends the service refused so far. */
  refusedSends(): number;
}

/** The person's side of a channel that receives by itself (Telegram polls; the web chat posts to the API). */
export interface ChannelPerson {
  write(chatId: string, text: string): void;
  press(chatId: string, data: string): void;
  /** Whether a press was answered with `notice` (Telegram shows it). */
  pressAnswered(chatId: string, notice: string): boolean;
  /** Updates the service still holds for the bot (not confirmed by a poll). */
  pending(): number;
  /** Whether what the person wrote (`text`) is still to be seen in the chat. */
  stillShows(chatId: string, text: string): boolean;
}

export interface ChannelHarness {
  /** The channel under test, not started. */
  channel: ChatChannel;
  /** A fresh chat of one person, as the channel names it. */
  newChat(): string;
  /** What the person sees in the chat, oldest first. */
  seen(chatId: string): Promise<SeenMessage[]>;
  /** Longest text one message may show; null when the channel has no limit. */
  maxTextLength: number | null;
  /** Whether the channel shows `**bold**` and `` `code` `` as formatting (the markers are gone). */
  formats: boolean;
  /** Whether buttons are shown; when not, why. */
  buttons: true | { reason: string };
  /** Faults of the channel's service; when it has none of these, why. */
  faults: ChannelFaults | { reason: string };
  /** The person writing through the channel; when the channel does not receive by itself, why. */
  person: ChannelPerson | { reason: string };
  /** Another channel of the same kind on its own (bot), to start and stop apart from the first. */
  spare(): Promise<{ channel: ChatChannel; person: ChannelPerson | null }>;
  close(): Promise<void>;
}

/** Counts what a channel hands over. */
class RecordingInbox implements ChatInbox {
  readonly messages: InboundMessage[] = [];
  readonly presses: InboundPress[] = [];
  async receive(message: InboundMessage) {
    this.messages.push(message);
    return null;
  }
  async press(press: InboundPress) {
    this.presses.push(press);
    return { notice: `noted ${press.data}` };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(what: string, probe: () => Promise<T | null> | T | null, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(25);
  }
}

const text = (value: string, buttons: ChatButton[] = []): OutboundMessage => ({
  kind: "text",
  text: value,
  links: [],
  buttons,
});

export function chatChannelConformance(
  kind: ChatChannelKind,
  setup: (store: Store) => Promise<ChannelHarness>,
): void {
  describe(`ChatChannel conformance: ${kind}`, () => {
    let store: Store;
    let h: ChannelHarness;
    let outbox: Outbox;
    const inbox = new RecordingInbox();
    const feed = new ChatFeed();

    beforeAll(async () => {
      store = await openTestStore();
      h = await setup(store);
      await h.channel.start(inbox);
      outbox = new Outbox({
        store,
        channel: h.channel,
        feed,
        logger: createLogger({ level: "silent", redactor: new SecretRedactor() }),
        pollMs: 50,
      });
      outbox.start();
    });
    afterAll(async () => {
      await outbox?.stop();
      await h?.channel.stop();
      await h?.close();
      await store?.close();
    });

    /** A conversation on a fresh chat. */
    const conversation = async () => {
      const chatId = h.newChat();
      const c = await store.conversations.open({ channel: kind, chatId, userId: null, language: "en" });
      return { chatId, id: c.id };
    };
    /** Stores a message for the person and waits until the outbox has delivered it. */
    const show = async (conversationId: string, body: string, buttons: ChatButton[] = []) => {
      const message = await store.conversations.addOutgoing({
        conversationId,
        role: "po",
        text: body,
        buttons,
      });
      feed.emit(conversationId);
      await eventually("the outbox to deliver", async () => {
        const now = await store.conversations.getMessage(message.id);
        return now.status === "sent" ? now : null;
      });
      return message;
    };

    it("send answers the id to edit the message by", async () => {
      const { chatId } = await conversation();
      const id = await h.channel.send(chatId, text("first words"));
      expect(typeof id).toBe("string");
      expect(id.length).toBeGreaterThan(0);
      await h.channel.edit(chatId, id, text("second words"));
      // The same edit again (a replayed delivery) is no error.
      await h.channel.edit(chatId, id, text("second words"));
      const seen = await h.seen(chatId);
      if (seen.length > 0) expect(seen.map((m) => m.text)).toEqual(["second words"]);
    });

    it("edits a delivered message in place", async () => {
      const c = await conversation();
      const message = await show(c.id, "🛠 weather bot: Architect");
      const [before] = await h.seen(c.chatId);
      await store.conversations.edit(message.id, { text: "🛠 weather bot: Developer, round 2" });
      feed.emit(c.id);
      const after = await eventually("the edit to arrive", async () => {
        const seen = await h.seen(c.chatId);
        return seen[0]?.text.includes("round 2") ? seen : null;
      });
      expect(after).toHaveLength(1);
      expect(after[0]?.id).toBe(before?.id);
      expect(after[0]?.text).toBe("🛠 weather bot: Developer, round 2");
    });

    it("shows HTML-special characters as written, and a model's Markdown as formatting or as written", async () => {
      const c = await conversation();
      const written = "if a < b && c > d then <b> is no tag: **bold** and `npm test`";
      await show(c.id, written);
      const [seen] = await h.seen(c.chatId);
      if (h.formats) {
        expect(seen?.text).toBe("if a < b && c > d then <b> is no tag: bold and npm test");
        expect(seen?.bold).toEqual(["bold"]);
        expect(seen?.code).toEqual(["npm test"]);
      } else {
        expect(seen?.text).toBe(written);
      }
    });

    it("shows a text whose markup the service refuses as plain text", async () => {
      const c = await conversation();
      const faults = "reason" in h.faults ? null : h.faults;
      // Refused by the service on purpose, then markup that cannot nest (`**a `b** c`` as tags).
      faults?.rejectMarkupNext();
      await show(c.id, "the **first** one");
      await show(c.id, "a **mixed `up** text` & more");
      const seen = await h.seen(c.chatId);
      expect(seen.map((m) => m.text)).toEqual(["the **first** one", "a **mixed `up** text` & more"]);
      if (h.formats) expect(seen.map((m) => m.isPlain)).toEqual([true, true]);
    });

    it("shows a long text whole, in pieces the channel takes, in order", async () => {
      const c = await conversation();
      const words = Array.from({ length: 1_000 }, (_, i) => `w${String(i).padStart(4, "0")}`);
      const long = words.join(" ").slice(0, 5_000);
      expect(long).toHaveLength(5_000);
      await show(c.id, long);
      const pieces = await h.seen(c.chatId);
      if (h.maxTextLength !== null) {
        expect(pieces.length).toBeGreaterThan(1);
        for (const piece of pieces) expect([...piece.text].length).toBeLessThanOrEqual(h.maxTextLength);
      }
      expect(pieces.map((p) => p.text).join(" ")).toBe(long);
    });

    it("shows buttons and hands a press to the inbox (or, without buttons, still shows the text)", async () => {
      const c = await conversation();
      const buttons = [
        { text: "Approve", data: "access:approve:1" },
        { text: "Deny", data: "access:deny:1" },
      ];
      await show(c.id, "Ann asks for access.", buttons);
      const [seen] = await h.seen(c.chatId);
      expect(seen?.text).toBe("Ann asks for access.");
      if (h.buttons !== true) {
        expect(h.buttons.reason).not.toBe("");
        expect(seen?.buttons).toEqual([]);
        return;
      }
      expect(seen?.buttons).toEqual(["access:approve:1", "access:deny:1"]);
      const person = "reason" in h.person ? null : h.person;
      if (!person) throw new Error("a channel with buttons needs the person's side to press them");
      person.press(c.chatId, "access:deny:1");
      const press = await eventually(
        "the press to reach the inbox",
        () => inbox.presses.find((p) => p.chatId === c.chatId) ?? null,
      );
      expect(press).toMatchObject({ channel: kind, chatId: c.chatId, data: "access:deny:1" });
      await eventually("the press to be answered", () =>
        person.pressAnswered(c.chatId, "noted access:deny:1") ? true : null,
      );
    });

    it("hands what the person writes to the inbox once, in order", async () => {
      if ("reason" in h.person) {
        // The web chat's messages come through its API routes, straight to the inbox.
        expect(h.person.reason).not.toBe("");
        return;
      }
      const c = await conversation();
      for (const words of ["one", "two", "three"]) h.person.write(c.chatId, words);
      const got = await eventually("three messages in the inbox", () => {
        const mine = inbox.messages.filter((m) => m.chatId === c.chatId);
        return mine.length >= 3 ? mine : null;
      });
      await sleep(200);
      expect(inbox.messages.filter((m) => m.chatId === c.chatId).map((m) => m.text)).toEqual([
        "one",
        "two",
        "three",
      ]);
      expect(got.every((m) => m.channel === kind && m.sender.externalId === c.chatId)).toBe(true);
      expect(new Set(got.map((m) => m.inboundKey)).size).toBe(3);
      const person = h.person;
      await eventually("the updates to be confirmed", () => (person.pending() === 0 ? true : null));
    });

    it("takes a message the person wrote out of the chat when told, and says when it cannot", async () => {
      const c = await conversation();
      if ("reason" in h.person) {
        // Nothing the person wrote is kept by the channel itself: there is nothing to take back.
        expect(await h.channel.forget(c.chatId, null)).toBe(true);
        return;
      }
      const person = h.person;
      person.write(c.chatId, "my token is in here");
      const got = await eventually(
        "the message in the inbox",
        () => inbox.messages.find((m) => m.chatId === c.chatId && m.text === "my token is in here") ?? null,
      );
      expect(got.externalId).not.toBeNull();
      expect(person.stillShows(c.chatId, "my token is in here")).toBe(true);
      expect(await h.channel.forget(c.chatId, got.externalId)).toBe(true);
      expect(person.stillShows(c.chatId, "my token is in here")).toBe(false);
      // Gone already (or never known): false, and nothing thrown.
      expect(await h.channel.forget(c.chatId, got.externalId)).toBe(false);
      expect(await h.channel.forget(c.chatId, null)).toBe(false);
    });

    it("says it is typing, and a failed typing action throws nothing", async () => {
      const { chatId } = await conversation();
      await h.channel.typing(chatId);
      if ("reason" in h.faults) return;
      h.faults.failTypingNext();
      await h.channel.typing(chatId);
    });

    it("waits out a short rate limit; a long one is a DeliveryError saying when, and the outbox delivers then", async () => {
      const c = await conversation();
      if ("reason" in h.faults) {
        expect(h.faults.reason).not.toBe("");
        await show(c.id, "nothing limits this");
        expect((await h.seen(c.chatId)).map((m) => m.text)).toEqual(["nothing limits this"]);
        return;
      }
      const faults = h.faults;
      const refused = faults.refusedSends();
      faults.rateLimitNext(1);
      await h.channel.send(c.chatId, text("after a short wait"));
      expect(faults.refusedSends()).toBe(refused + 1);
      expect((await h.seen(c.chatId)).map((m) => m.text)).toEqual(["after a short wait"]);

      faults.rateLimitNext(3);
      const error = await h.channel.send(c.chatId, text("too long a wait")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect((error as DeliveryError).retryAfterMs).toBe(3_000);
      expect((await h.seen(c.chatId)).map((m) => m.text)).toEqual(["after a short wait"]);

      faults.rateLimitNext(3);
      const started = Date.now();
      const message = await show(c.id, "delivered after the wait");
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
      expect((await store.conversations.getMessage(message.id)).attempts).toBe(1);
      expect((await h.seen(c.chatId)).map((m) => m.text)).toEqual([
        "after a short wait",
        "delivered after the wait",
      ]);
    });

    it("lets its service forget an update only once the inbox has it (a crash before loses nothing)", async () => {
      const spare = await h.spare();
      const person = spare.person;
      if (!person) {
        expect("reason" in h.person && h.person.reason).toBeTruthy();
        return;
      }
      // The inbox holds each message until the test lets it go, as a slow store would.
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const held: InboundMessage[] = [];
      const slow: ChatInbox = {
        receive: async (message) => {
          held.push(message);
          await gate;
          return null;
        },
        press: async () => ({ notice: null }),
      };
      await spare.channel.start(slow);
      try {
        const chatId = h.newChat();
        person.write(chatId, "first");
        await eventually("the inbox to be handed the message", () => (held.length > 0 ? true : null));
        person.write(h.newChat(), "from someone else");
        await sleep(500);
        // Both still with the service: a process killed now gets them again at its next start.
        expect(person.pending()).toBe(2);
        release();
        await eventually("both to be confirmed once stored", () => (person.pending() === 0 ? true : null));
        expect(held.map((m) => m.text)).toEqual(["first", "from someone else"]);
      } finally {
        release();
        await spare.channel.stop();
      }
    });

    it("stops: nothing more is received, and what arrives meanwhile waits for the next start", async () => {
      const spare = await h.spare();
      const spareInbox = new RecordingInbox();
      await spare.channel.start(spareInbox);
      await spare.channel.stop();
      await spare.channel.stop();
      const person = spare.person;
      if (!person) return;
      const chatId = h.newChat();
      person.write(chatId, "while stopped");
      await sleep(1_000);
      expect(spareInbox.messages).toEqual([]);
      expect(person.pending()).toBe(1);
      const again = await h.spare();
      const laterInbox = new RecordingInbox();
      await again.channel.start(laterInbox);
      try {
        const got = await eventually("the waiting message after the restart", () =>
          laterInbox.messages.length > 0 ? laterInbox.messages : null,
        );
        expect(got.map((m) => m.text)).toEqual(["while stopped"]);
      } finally {
        await again.channel.stop();
      }
    });
  });
}
