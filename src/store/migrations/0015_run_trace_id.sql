-- The OpenTelemetry trace a run was started in, for the admin run page to link.
ALTER TABLE "runs" ADD COLUMN "trace_id" text;