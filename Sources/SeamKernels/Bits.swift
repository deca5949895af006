public import CCPU  // public: the inlinable functions below call its static inline C functions from other modules

/// Bit gathers and scatters Swift cannot emit: x86 BMI2's PEXT and PDEP where the build targets them (x86-64-v3),
/// a loop over the mask's bits elsewhere (correct, and slow: a kernel picks its form by ``fast``).
public enum Bits {
    /// Whether ``extract(_:_:)`` and ``deposit(_:_:)`` are single instructions in this build.
    @inlinable public static var fast: Bool { SEAM_BUILD_HAS_BMI2 != 0 }

    /// The bits of `x` at the set bits of `mask`, packed into the low bits in order.
    @inlinable @inline(__always)
    public static func extract(_ x: UInt64, _ mask: UInt64) -> UInt64 { seam_bits_extract(x, mask) }

    /// The low bits of `x`, in order, placed at the set bits of `mask`.
    @inlinable @inline(__always)
    public static func deposit(_ x: UInt64, _ mask: UInt64) -> UInt64 { seam_bits_deposit(x, mask) }
}
