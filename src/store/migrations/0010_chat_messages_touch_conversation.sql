-- A conversation's updated_at follows its newest message, in the insert itself (no second statement).
CREATE FUNCTION "chat_messages_touch_conversation"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "conversations" SET "updated_at" = clock_timestamp() WHERE "id" = NEW."conversation_id";
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "chat_messages_touch_conversation" AFTER INSERT ON "chat_messages"
  FOR EACH ROW EXECUTE FUNCTION "chat_messages_touch_conversation"();
