// Fault matrix at the scale: 1,000 events per fault kind (see tests/reliability/fault-matrix.ts).
import { figuresOf, registerFaultMatrix } from "../reliability/fault-matrix.ts";

registerFaultMatrix(
  1000,
  120_000,
  (name, run) => console.log(JSON.stringify({ case: name, ...figuresOf(run) })),
);
