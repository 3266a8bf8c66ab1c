import Foundation

/// 1-D Gaussian smoothing matching `scipy.ndimage.gaussian_filter1d(x, sigma, mode="reflect", truncate=4.0)`:
/// kernel radius ⌊truncate·σ + 0.5⌋, weights exp(−x²/2σ²) normalised, half-sample symmetric padding
/// (d c b a | a b c d | d c b a), repeated when the kernel is longer than the input.
public enum GaussianSmoothing {
    public static func filter1d(_ x: [Double], sigma: Double, truncate: Double = 4.0) -> [Double] {
        let n = x.count
        guard n > 0, sigma > 0 else { return x }
        let radius = Int(truncate * sigma + 0.5)
        var w = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let total = w.reduce(0, +)
        w = w.map { $0 / total }
        func reflect(_ i: Int) -> Int {
            let period = 2 * n
            var m = i % period
            if m < 0 { m += period }
            return m < n ? m : period - 1 - m
        }
        return (0..<n).map { i in
            var s = 0.0
            for k in -radius...radius { s += w[k + radius] * x[reflect(i + k)] }
            return s
        }
    }

    public static func filter1d(_ x: [Float], sigma: Double, truncate: Double = 4.0) -> [Float] {
        filter1d(x.map(Double.init), sigma: sigma, truncate: truncate).map(Float.init)
    }
}
