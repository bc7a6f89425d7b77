// Which build dist/ is. tsc emits 'unbundled'; scripts/build-bundle.mjs then overwrites the emitted
// dist/bundle/build-id.js with the id it also writes on the bundle's first line (a hash of dist/'s code). Any later
// tsc run emits 'unbundled' again, so bin/pgpipe never runs a bundle older than the compiled code.
export const BUILD_ID: string = 'unbundled';
