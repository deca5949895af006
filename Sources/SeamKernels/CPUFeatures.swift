import CCPU

/// The instruction-set level the build was compiled for, and whether this CPU has it.
public enum CPUFeatures {
    /// The first extension the build uses that this CPU lacks (`"POPCNT"`, `"AVX2"`, …); nil when it has them all.
    /// A program linking Seam checks it when it is loaded, before main (CCPU's constructor), and exits with a message
    /// when this is not nil: a binary built for x86-64-v3 would otherwise die of an illegal instruction.
    public static var missing: String? { seam_cpu_missing_feature().map { String(cString: $0) } }

    /// `x86-64`, `x86-64-v2`, `x86-64-v3`, … as compiled.
    public static var buildLevel: String { String(cString: seam_cpu_build_level()) }
}
