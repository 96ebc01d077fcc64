/**
 * The pipeline: steps with declared inputs and outputs, content identities and completion records (a step whose
 * inputs did not change is skipped; stale or partial results are refused by name), the main job that runs them,
 * and the reader notebooks use to get the job's results.
 */
export { jsonIdentity, stableJson, treeIdentity, listFiles, sha256, type TreeIdentity } from "../util/identity.js";
export { readRecord, StaleResultError, StepFailedError, type StepRecord, type StepStatus } from "./record.js";
export { acquireLock, LockedError } from "../util/lock.js";
export { runSteps, staleReason, freshRecord, StepNotApplicable, type StepSpec, type StepContext, type StepRun, type StepOutcome } from "./step.js";
export { jobPaths, packageRoot, type JobOptions, type JobPaths } from "./paths.js";
export { JobResults } from "./results.js";
export { jobSteps, runJob, results, COMPUTE_STEPS, type JobRunOptions, type JobStepOptions } from "./job.js";
export { FIGURE_BUILDERS, builderAvailable, reportRows, primaryVolume, cellResults, comparison, type FigureBuilder } from "./figure-builders.js";
export { readFig1aInput, readFig2bInput, readFig2cView } from "./analysis-steps.js";
export { writeReport, reportMarkdown, rowsMarkdown, type Report, type ReportFigure } from "./report.js";
export { readTableSet, writeTableSet, readJsonResult, writeJsonResult } from "./tables.js";
export { analyseCell, type CellResults } from "./cell-results.js";
