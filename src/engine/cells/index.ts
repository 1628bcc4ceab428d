import type { CellKind } from '../../config';
import type { Cell } from './cell';
import { gruCell } from './gru';
import { lstmCell } from './lstm';
import { rnnCell } from './rnn';

export const CELLS: Record<CellKind, Cell> = { rnn: rnnCell, lstm: lstmCell, gru: gruCell };
