// V8 settings for the server process, applied before anything compiles WebAssembly (main.ts imports
// this module first). Prisma 7 plans queries with a WebAssembly query compiler; V8's default tier-up
// recompiles it with TurboFan once it is hot, which added about 55 MB of resident memory to the
// server and made no measurable difference to query time on the benchmark (its work per query is
// small next to the database's), so its baseline (Liftoff) code is kept.
import v8 from 'node:v8';

v8.setFlagsFromString('--liftoff-only');
