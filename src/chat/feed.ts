/** `outgoing`: something for the person to see (an outbox delivers it); `other`: state, inbound. */
export type ChatChange = "outgoing" | "other";

/**
 * Tells this process's readers (the web chat's streams, the outbox) that a conversation changed:
 * a message added or edited, its state moved. Readers re-read the store; they also poll it, so a
 * change made by another process reaches them too, a little later.
 */
export class ChatFeed {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly any = new Set<(conversationId: string, change: ChatChange) => void>();

  emit(conversationId: string, change: ChatChange = "outgoing"): void {
    for (const listener of this.listeners.get(conversationId) ?? []) listener();
    for (const listener of this.any) listener(conversationId, change);
  }

  /** Calls `listener` on each change of one conversation; returns how to stop. */
  on(conversationId: string, listener: () => void): () => void {
    let set = this.listeners.get(conversationId);
    if (!set) {
      set = new Set();
      this.listeners.set(conversationId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(conversationId);
    };
  }

  /** Calls `listener` on each change of any conversation. */
  onAny(listener: (conversationId: string, change: ChatChange) => void): () => void {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }
}
