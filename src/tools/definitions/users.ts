import { Id, User, UserCreate, UserUpdate } from "../../contracts/index.js";
import { assertAdmin } from "../permissions.js";
import { defineTool } from "../tool.js";

export const userCreate = defineTool({
  name: "user.create",
  group: "admin",
  summary:
    "Add a person who may talk to the system: a name and a telegramId and/or a webLogin; role user (default) or admin. Admin only.",
  input: UserCreate,
  output: User,
  async handler(input, ctx) {
    assertAdmin(ctx.principal, "user.create");
    return ctx.store.users.create(input);
  },
});

export const userUpdate = defineTool({
  name: "user.update",
  group: "admin",
  summary: "Change a user's name or role, or allow or bar them (isAllowed). Admin only.",
  input: UserUpdate.extend({ id: Id.describe("user UUID") }),
  output: User,
  async handler({ id, ...patch }, ctx) {
    assertAdmin(ctx.principal, "user.update");
    return ctx.store.users.update(id, patch);
  },
});
