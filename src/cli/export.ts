// `charrnn export` and `charrnn import`: the flags. The checks and the work are in
// src/export/commands.ts.

import { Command, Option } from '@commander-js/extra-typings';
import { EXPORT_FORMATS, exportOptions, importOptions, runExport, runImport } from '../export/commands';
import { choice, explicitOptions } from './args';
import { checkpointPath, DEBUG_FLAG, withCheckpoint } from './common';

export function exportCommand() {
  const cmd = new Command('export')
    .description("write a checkpoint as a safetensors state dict in PyTorch's layout, or as a one-step ONNX graph")
    .argument('[checkpoint]', 'checkpoint to export (or --checkpoint)');
  return withCheckpoint(cmd, 'checkpoint to export')
    .addOption(new Option('--format <format>', 'safetensors or onnx (default: from the extension of -o)').argParser(choice('--format', EXPORT_FORMATS)))
    .option('-o, --out <file>', 'the file to write (- for stdout)')
    .option(...DEBUG_FLAG)
    .action(async (positional, o, self) => {
      const checkpoint = checkpointPath(positional, o.checkpoint, explicitOptions(self));
      process.exitCode = await runExport(exportOptions(checkpoint, o));
    });
}

export function importCommand() {
  return new Command('import')
    .description('turn a safetensors state dict (from charrnn export, or PyTorch) back into a checkpoint')
    .argument('<file>', 'the .safetensors file')
    .option('-o, --out <checkpoint>', 'the checkpoint to write, e.g. imported.json')
    .option('--vocab-from <path>', 'take the vocabulary from a checkpoint or a training text (for files without charrnn metadata)')
    .option(...DEBUG_FLAG)
    .action(async (file, o) => {
      process.exitCode = await runImport(importOptions(file, o));
    });
}
