// Build static/css/bootstrap-netroots.min.css from static/scss/bootstrap-netroots.scss as Bootstrap builds its own
// dist CSS: Dart Sass (compressed), then Autoprefixer for the browsers Bootstrap 5.3 supports.
//
//   node static/scss/build.mjs            write the built file (npm run build:css, make css)
//   node static/scss/build.mjs --check    build in memory; exit 1 if the committed file differs (npm run check:css, CI)
//
// The output depends only on the sources and the versions pinned in package-lock.json, so CI can compare it.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import autoprefixer from "autoprefixer";
import postcss from "postcss";
import * as sass from "sass";

const SOURCE = fileURLToPath(new URL("bootstrap-netroots.scss", import.meta.url));
const TARGET = fileURLToPath(new URL("../css/bootstrap-netroots.min.css", import.meta.url));
const NODE_MODULES = fileURLToPath(new URL("../../node_modules", import.meta.url));
// Bootstrap 5.3's .browserslistrc (its repository; not shipped in the npm package).
const BROWSERS = [
  ">= 0.5%",
  "last 2 major versions",
  "not dead",
  "Chrome >= 60",
  "Firefox >= 60",
  "Firefox ESR",
  "iOS >= 12",
  "Safari >= 12",
  "not Explorer <= 11",
  "not kaios <= 2.5",
];

// The browser data is pinned by package-lock.json on purpose (the output must not change under CI): no "outdated" nag.
process.env.BROWSERSLIST_IGNORE_OLD_DATA = "1";

async function build() {
  const compiled = sass.compile(SOURCE, {
    style: "compressed",
    loadPaths: [NODE_MODULES],
    charset: false, // declared below, as Bootstrap's dist CSS does, rather than as a byte order mark
    quietDeps: true, // Bootstrap 5.3's own deprecation warnings (global functions, colour functions)
    silenceDeprecations: ["import"], // Bootstrap 5.3 supports only @import, not @use
  });
  const prefixed = await postcss([autoprefixer({ overrideBrowserslist: BROWSERS, cascade: false })]).process(
    compiled.css,
    { from: SOURCE },
  );
  // blockquote-footer's "— " is the one non-ASCII character; say how it is encoded, whatever serves the file.
  const charset = /[^\x00-\x7f]/.test(prefixed.css) ? '@charset "UTF-8";' : "";
  return `${charset}${prefixed.css}\n`;
}

const css = await build();
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(TARGET, "utf8");
  } catch {
    // no committed file: it differs
  }
  if (committed !== css) {
    console.error(
      "static/css/bootstrap-netroots.min.css is not what static/scss/bootstrap-netroots.scss builds: " +
        "run `npm run build:css` and commit the result.",
    );
    process.exit(1);
  }
  console.log("static/css/bootstrap-netroots.min.css is up to date.");
} else {
  writeFileSync(TARGET, css);
  console.log(`Wrote static/css/bootstrap-netroots.min.css (${css.length.toLocaleString("en-GB")} characters).`);
}
