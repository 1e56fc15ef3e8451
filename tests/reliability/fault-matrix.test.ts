// Fault matrix at 200 events per fault kind (the 1,000-event run is tests/long/fault-matrix.test.ts).
import { registerFaultMatrix } from "./fault-matrix.ts";

registerFaultMatrix(200, 30_000);
