public import CCPU  // public: the inlinable constant below reads its macro from other modules

/// What the build was compiled for, as constants the optimizer folds (kernels choose a form per target this way).
public enum BuildTarget {
    /// Whether this build may use AVX2 (Makefile's default MARCH=x86-64-v3; not with MARCH=x86-64-v2 or x86-64).
    @inlinable public static var hasAVX2: Bool { SEAM_BUILD_HAS_AVX2 != 0 }
}
