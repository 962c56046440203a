export {
  type FakeGithub,
  type FakeGithubOptions,
  type FakeGithubRequest,
  type FakePush,
  startFakeGithub,
} from "./server.js";
