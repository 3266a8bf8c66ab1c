import Foundation

/// The forward pass allocates its buffers per call, tens of MB at a time. glibc serves blocks that large with
/// fresh mmaps and unmaps them on free, so every call faulted in and zeroed new pages (a twentieth of a
/// rollout's cycles went to the kernel's page clearing). Raising the mmap and trim thresholds keeps freed
/// memory in the heap for the next call. Looked up at run time: mallopt is glibc's, not in Swift's Glibc module.
enum HeapRetention {
    static let applied: Bool = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1   // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD (malloc.h)
        return mallopt(mmapThreshold, 32 << 20) == 1 && mallopt(trimThreshold, 1 << 30) == 1
    }()
}
