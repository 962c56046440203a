import { inSpan } from "../observability/index.js";

/**
 * A graph node traced as a `stage.<name>` span, a child of its run's span: the stage's name, the
 * run and (in the engineering loop) the iteration it ran in.
 */
export function tracedStage<S extends { runId: string; iteration?: number }, U>(
  stage: string,
  node: (state: S) => Promise<U> | U,
): (state: S) => Promise<U> {
  return (state) =>
    inSpan(
      `stage.${stage}`,
      { "run.id": state.runId, "run.stage": stage, "run.iteration": state.iteration },
      async () => node(state),
    );
}
