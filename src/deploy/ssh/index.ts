/**
 * SSH to deploy servers: connections (ssh2) that run argument arrays quoted for the remote shell,
 * transfer files over SFTP and pin the server's host key; private key checks; shell quoting.
 */
export {
  type ExecOptions,
  type ExecResult,
  hostKeyFingerprint,
  SshConnection,
  type SshTarget,
} from "./connection.js";
export { checkPrivateKey } from "./private-key.js";
export { shellCommand, shellQuote } from "./quote.js";
