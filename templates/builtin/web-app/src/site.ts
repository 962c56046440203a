/**
 * The site's name and tagline, filled in when the project was created. Kept as string constants so
 * the views interpolate them through `html` (escaped), never as raw markup.
 */
export const SITE_NAME = "{{projectName}}";
export const SITE_DESCRIPTION = "{{description}}";
