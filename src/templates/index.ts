/**
 * Project templates: the built-in ones shipped under `templates/builtin/`, external ones from a git
 * URL at a pinned ref, the manifest reader, and rendering into a new repository folder.
 */
export {
  builtinTemplatesDir,
  getTemplate,
  listTemplates,
  type TemplateOrigin,
  type TemplateSource,
} from "./builtin.js";
export { type ExternalTemplate, fetchExternalTemplate } from "./external.js";
export { manifestText, parseManifest, readManifest } from "./manifest.js";
export { type Escaping, type RenderOptions, renderTemplate, substitute } from "./render.js";
