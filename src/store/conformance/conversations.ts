import { describe, expect, it } from "vitest";
import { expectAppError, type GetStore, MISSING_ID, makeProject, uniq } from "./helpers.js";
import { KNOWN_SECRET } from "./redaction.js";

/** Conversations: the queue of a person's messages, the outbox, leases and runs' origins. */
export function conversationCases(get: GetStore): void {
  const open = (chatId = uniq("chat")) =>
    get().conversations.open({ channel: "telegram", chatId, userId: null, language: "ru" });

  describe("conversations", () => {
    it("opens one conversation per chat, also when asked twice", async () => {
      const chatId = uniq("chat");
      const [a, b] = await Promise.all([open(chatId), open(chatId)]);
      expect(a.id).toBe(b.id);
      expect(a).toMatchObject({
        channel: "telegram",
        chatId,
        state: "idle",
        language: "ru",
        questionsAsked: 0,
      });
      expect(await get().conversations.find("telegram", chatId)).toMatchObject({ id: a.id });
      expect(await get().conversations.find("web", chatId)).toBeNull();
      await expectAppError(get().conversations.get(MISSING_ID), "not_found");
    });

    it("stores an inbound update once, queues messages in order and hands them out oldest first", async () => {
      const c = await open();
      const key = uniq("update");
      const first = await get().conversations.addInbound({
        conversationId: c.id,
        text: "one",
        inboundKey: key,
      });
      const again = await get().conversations.addInbound({
        conversationId: c.id,
        text: "one",
        inboundKey: key,
      });
      expect(again).toMatchObject({ duplicate: true, message: { id: first.message.id } });
      await get().conversations.addInbound({ conversationId: c.id, text: "two", inboundKey: null });
      expect((await get().conversations.nextQueued(c.id))?.text).toBe("one");
      // Marking one handled answers the next, in the same statement.
      expect((await get().conversations.markHandled(first.message.id))?.text).toBe("two");
      expect((await get().conversations.nextQueued(c.id))?.text).toBe("two");
      const all = await get().conversations.listMessages(c.id, { limit: 10 });
      expect(all.map((m) => [m.text, m.status])).toEqual([
        ["one", "handled"],
        ["two", "queued"],
      ]);
      expect(await get().conversations.withQueuedMessages(1000)).toContain(c.id);
      const second = (await get().conversations.nextQueued(c.id))?.id as string;
      expect(await get().conversations.markHandled(second)).toBeNull();
      expect(await get().conversations.nextQueued(c.id)).toBeNull();
    });

    it("lists a person's conversations by their latest message, either way it came", async () => {
      const user = await get().users.create({ webLogin: uniq("person"), name: "Person" });
      const start = (chatId: string) =>
        get().conversations.open({ channel: "web", chatId, userId: user.id, language: "en" });
      const older = await start(uniq("chat"));
      const newer = await start(uniq("chat"));
      const order = async () => (await get().conversations.listForUser(user.id, 10)).map((c) => c.id);
      expect(await order()).toEqual([newer.id, older.id]);
      await get().conversations.addInbound({ conversationId: older.id, text: "hi", inboundKey: null });
      expect(await order()).toEqual([older.id, newer.id]);
      await get().conversations.addOutgoing({
        conversationId: newer.id,
        role: "po",
        kind: "text",
        text: "hello",
        key: null,
      });
      expect(await order()).toEqual([newer.id, older.id]);
    });

    it("stores a text holding lone surrogates with U+FFFD in their place, as node-postgres writes them", async () => {
      // PGlite once wrote them as broken UTF-8, and the insert failed: a 500 on such a Telegram message.
      const c = await open();
      const { message } = await get().conversations.addInbound({
        conversationId: c.id,
        text: "Ɖ匓\udce5頏 and \ud900ά, a pair 🤖 kept",
        inboundKey: null,
      });
      expect(message.text).toBe("Ɖ匓\ufffd頏 and \ufffdά, a pair 🤖 kept");
      const [stored] = await get().conversations.listMessages(c.id, { limit: 1 });
      expect(stored?.text).toBe(message.text);
    });

    it("reads back a conversation's history: the kinds asked for, between two messages, newest ones", async () => {
      const c = await open();
      const said = (text: string) =>
        get().conversations.addInbound({ conversationId: c.id, text, inboundKey: null });
      const told = (text: string, kind: "text" | "progress") =>
        get().conversations.addOutgoing({ conversationId: c.id, role: "po", kind, text, key: null });
      const first = await said("one");
      await told("Developer, round 1", "progress");
      await told("two", "text");
      await said("three");
      const current = await said("four");
      await told("after", "text");
      const history = (limit: number, afterSeq = 0) =>
        get().conversations.history(c.id, {
          afterSeq,
          beforeSeq: current.message.seq,
          kinds: ["text"],
          limit,
        });
      expect(await history(10)).toEqual([
        { seq: first.message.seq, role: "person", text: "one" },
        { seq: expect.any(Number), role: "po", text: "two" },
        { seq: expect.any(Number), role: "person", text: "three" },
      ]);
      expect((await history(2)).map((m) => m.text)).toEqual(["two", "three"]);
      expect((await history(10, first.message.seq)).map((m) => m.text)).toEqual(["two", "three"]);
    });

    it("masks known secrets in what it keeps", async () => {
      const c = await open();
      const { message } = await get().conversations.addInbound({
        conversationId: c.id,
        text: `my token is ${KNOWN_SECRET}`,
        inboundKey: null,
      });
      expect(message.text).not.toContain(KNOWN_SECRET);
    });

    it("lets one holder at a time take a conversation's queue, until its lease ends", async () => {
      const c = await open();
      expect(await get().conversations.claim(c.id, "a", 60_000)).toMatchObject({
        id: c.id,
        state: "processing",
      });
      expect((await get().conversations.get(c.id)).state).toBe("processing");
      expect(await get().conversations.claim(c.id, "b", 60_000)).toBeNull();
      await get().conversations.release(c.id, "b", "idle");
      expect((await get().conversations.get(c.id)).state).toBe("processing");
      await get().conversations.release(c.id, "a", "awaiting");
      expect((await get().conversations.get(c.id)).state).toBe("awaiting");
      expect(await get().conversations.claim(c.id, "b", 1)).not.toBeNull();
      await new Promise((r) => setTimeout(r, 20));
      expect(await get().conversations.claim(c.id, "a", 60_000)).not.toBeNull();
      // Without a state, the release says whether a blocked run waits for the person.
      await get().conversations.release(c.id, "a");
      expect((await get().conversations.get(c.id)).state).toBe("idle");
    });

    it("gives a holder back the queues it leased before a restart, and nobody else", async () => {
      const c = await open();
      await get().conversations.addInbound({ conversationId: c.id, text: "waiting", inboundKey: null });
      const holder = uniq("node");
      expect(await get().conversations.claim(c.id, holder, 60_000)).not.toBeNull();
      expect(await get().conversations.withQueuedMessages(1000)).not.toContain(c.id);
      expect(await get().conversations.withQueuedMessages(1000, uniq("other"))).not.toContain(c.id);
      expect(await get().conversations.withQueuedMessages(1000, holder)).toContain(c.id);
    });

    it("keeps outgoing messages idempotent by key and delivers each version", async () => {
      const c = await open();
      const msg = await get().conversations.addOutgoing({
        conversationId: c.id,
        role: "system",
        kind: "progress",
        text: "Architect",
        key: "progress:1",
      });
      const same = await get().conversations.addOutgoing({
        conversationId: c.id,
        role: "system",
        kind: "progress",
        text: "something else",
        key: "progress:1",
      });
      expect(same.id).toBe(msg.id);
      expect(same.text).toBe("Architect");
      expect((await get().conversations.undelivered("telegram", 1000)).map((m) => m.id)).toContain(msg.id);
      await get().conversations.markDelivered(msg.id, 1, "42");
      expect((await get().conversations.undelivered("telegram", 1000)).map((m) => m.id)).not.toContain(
        msg.id,
      );
      const edited = await get().conversations.edit(msg.id, { text: "Developer, round 1" });
      expect(edited).toMatchObject({ version: 2, delivered: 1, externalId: "42", status: "pending" });
      // A version delivered while a newer edit was made leaves it pending.
      await get().conversations.edit(msg.id, { text: "Tester" });
      await get().conversations.markDelivered(msg.id, 2, "42");
      expect(await get().conversations.getMessage(msg.id)).toMatchObject({ status: "pending", delivered: 2 });
      await get().conversations.markDelivered(msg.id, 3, "42");
      expect(await get().conversations.getMessage(msg.id)).toMatchObject({ status: "sent", delivered: 3 });
    });

    it("retries a failed delivery later and gives up when told", async () => {
      const c = await open();
      const msg = await get().conversations.addOutgoing({ conversationId: c.id, role: "po", text: "hello" });
      await get().conversations.markDeliveryFailed(msg.id, "429", Date.now() + 60_000);
      expect((await get().conversations.undelivered("telegram", 1000)).map((m) => m.id)).not.toContain(
        msg.id,
      );
      await get().conversations.markDeliveryFailed(msg.id, "blocked by user", null);
      expect(await get().conversations.getMessage(msg.id)).toMatchObject({ status: "failed", attempts: 2 });
    });

    it("records where a run was started from", async () => {
      const c = await open();
      const project = await makeProject(get());
      const run = await get().runs.create({ projectId: project.id, kind: "engineering", input: {} });
      expect(await get().conversations.originOf(run.id)).toBeNull();
      await get().conversations.linkRun(run.id, c.id);
      await get().conversations.linkRun(run.id, c.id);
      expect(await get().conversations.originOf(run.id)).toBe(c.id);
    });
  });
}
