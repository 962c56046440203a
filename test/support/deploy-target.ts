/**
 * A deploy target for the `ssh-compose` suites and bench: a private dockerd, an sshd on 127.0.0.1
 * whose root sessions reach it, and the deploy base image; plus the engine harness options that
 * deploy there (server tools with that engine, the ssh-compose driver).
 */
import { ServerConnector, SshComposeDriver, sshDeployConnector } from "../../src/deploy/index.js";
import { ensureDeployBaseImage } from "./deploy-image.js";
import { startDockerd, type TestDockerd } from "./dockerd.js";
import type { EngineHarnessOptions } from "./engine-harness.js";
import { startSshd, type TestSshd } from "./sshd.js";

export interface DeployTarget {
  dockerd: TestDockerd;
  sshd: TestSshd;
  baseImage: string;
  /** The test engine runs with --iptables=false: its bridge has no way out, npm builds need one. */
  buildNetwork: "host";
  /** Harness options deploying with ssh-compose to this target, releases under `remoteRoot`. */
  harnessOptions(remoteRoot: string): Pick<EngineHarnessOptions, "servers" | "driver">;
  stop(): Promise<void>;
}

export async function startDeployTarget(): Promise<DeployTarget> {
  const [dockerd, sshd] = await Promise.all([startDockerd(), startSshd()]);
  const stop = async () => {
    await sshd.stop();
    await dockerd.stop();
  };
  try {
    const baseImage = await ensureDeployBaseImage(dockerd.docker);
    const dockerHostFor = () => dockerd.socket;
    return {
      dockerd,
      sshd,
      baseImage,
      buildNetwork: "host",
      harnessOptions: (remoteRoot) => ({
        servers: { dockerHostFor },
        driver: ({ store, vault, logger }) =>
          new SshComposeDriver({
            connector: sshDeployConnector(new ServerConnector({ store, vault })),
            logger,
            baseImage,
            remoteRoot,
            dockerHostFor,
            buildNetwork: "host",
          }),
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
