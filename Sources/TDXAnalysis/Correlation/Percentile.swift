/// q-th percentile (0…100) with NumPy's default linear interpolation; NaN for no values.
func percentile<T: BinaryFloatingPoint>(_ values: [T], _ q: Double) -> T {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let pos = Double(s.count - 1) * q / 100
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
    return s[lo] + T(pos - Double(lo)) * (s[hi] - s[lo])
}
