/** The version of chameleon, shown by `--version` and `--explain`. */
export const VERSION = "0.1.0";
