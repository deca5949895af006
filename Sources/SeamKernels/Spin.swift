public import CCPU  // public: the inlinable hint below calls its static inline C function from other modules

/// A thread waiting a few microseconds for another one, without sleeping.
public enum Spin {
    /// One turn of a spin loop: the CPU's pause hint (see `seam_cpu_relax`).
    @inlinable @inline(__always)
    public static func relax() { seam_cpu_relax() }
}
