// rlhub — entry point. OpenBLAS's kernel family must be fixed before any work (see
// OpenBLASCore.swift), then the command line is parsed with exit codes of docs/cli.md:
// 0 success · 1 a run or check failed · 2 bad input.
import Foundation
import Tensor

OpenBLASCore.reexecIfNeeded()
RLHub.runMain()
