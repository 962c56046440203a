import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { AppError, type ErrorBody, type ErrorKind } from "../contracts/index.js";
import type { Logger } from "../observability/index.js";

/** The one place error kinds become HTTP statuses. */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

/** Turns any thrown error into `{ error: { code, message, details } }` with the right status. */
export function errorHandler(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toHttpError(error);
    if (status >= 500)
      logger.error({ err: error, url: request.url, method: request.method }, "request failed");
    return reply.code(status).send({ error: body });
  };
}

/**
 * Errors Fastify raises before a route runs (a URL that does not decode, a path parameter over its
 * length limit, a body its parser refuses) in the same shape as every other error.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { status, body } = toHttpError(error);
  void reply.code(status).send({ error: body });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers over the size limit, a
 * request that does not parse, a client too slow to send one), answered in our error shape on the
 * raw socket, which is then closed as Node would.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "request_timeout", "the request did not arrive in time"]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "headers_too_large", "the request's headers (or its URL) are over the size limit"]
        : [400, "bad_request", "the request is not valid HTTP"];
  const body = JSON.stringify({ error: { code, message, details: [] } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

function toHttpError(error: FastifyError): { status: number; body: ErrorBody } {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? "body";
    return {
      status: 400,
      body: {
        code: "invalid_input",
        message: `invalid ${where}`,
        details: error.validation.map((v) => ({
          path: [where, ...v.instancePath.split("/").filter(Boolean)].join("."),
          message: v.message ?? "invalid",
        })),
      },
    };
  }
  if (error instanceof AppError) return { status: STATUS_OF_KIND[error.kind], body: error.toBody() };
  if (isResponseSerializationError(error)) {
    return { status: 500, body: { code: "internal", message: "response outside its contract", details: [] } };
  }
  const status = typeof error.statusCode === "number" ? error.statusCode : 500;
  if (status < 500) {
    return {
      status,
      body: { code: (error.code ?? "bad_request").toLowerCase(), message: error.message, details: [] },
    };
  }
  return { status: 500, body: { code: "internal", message: "internal error", details: [] } };
}
