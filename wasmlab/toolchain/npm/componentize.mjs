// wasmlab's driver for componentize-js: one JSON argument {source, wit, world, disable, out}.
import { readFile, writeFile } from 'node:fs/promises';
import { componentize } from '@bytecodealliance/componentize-js';

const options = JSON.parse(process.argv[2]);
try {
  const { component } = await componentize({
    sourcePath: options.source,
    witWorld: await readFile(options.wit, 'utf8'),
    worldName: options.world,
    disableFeatures: options.disable,
  });
  await writeFile(options.out, component);
} catch (error) {
  console.error(`error: ${error.message ?? error}`);
  process.exit(1);
}
