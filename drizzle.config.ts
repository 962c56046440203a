import { defineConfig } from "drizzle-kit";

// `npm run db:generate` turns changes in the schema into a new SQL migration under src/store/migrations.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./src/store/migrations",
});
