import Foundation

/// Adam with PyTorch's defaults (β₁ 0.9, β₂ 0.999, ε 1e-8) and bias correction:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
public struct Adam: Sendable, Codable, Equatable {
    public var lr: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    /// Steps taken so far (t in the bias correction).
    public private(set) var t: Int = 0

    public init(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
    }

    /// Starts a new step; call once before `update` of each parameter in that step.
    public mutating func beginStep() { t += 1 }

    /// One Adam update of `param` from `grad` with moments `state` (all of `count` elements).
    public func update(_ param: FloatPtr, grad: ConstFloatPtr, state: inout AdamState, count n: Int) {
        precondition(t > 0, "call beginStep() first")
        precondition(state.m.count == n)
        let ptrs = UncheckedBox((param, grad))
        state.m.withUnsafeMutableBufferPointer { mb in state.v.withUnsafeMutableBufferPointer { vb in
            let mv = UncheckedBox((mb.baseAddress!, vb.baseAddress!))
            // Memory-bound: both cores' bandwidth helps.
            Parallel.chunks(n) { r in
                updateSerial(ptrs.value.0 + r.lowerBound, grad: ptrs.value.1 + r.lowerBound,
                             m: mv.value.0 + r.lowerBound, v: mv.value.1 + r.lowerBound, count: r.count)
            }
        } }
    }

    private func updateSerial(_ param: FloatPtr, grad: ConstFloatPtr, m: FloatPtr, v: FloatPtr, count n: Int) {
        Adam.step(param, grad: grad, m: m, v: v, count: n, coefficients)
    }

    /// The step's constants (bias corrections folded in), for callers that run `step` on pieces themselves.
    public struct Coefficients: Sendable {
        public var beta1: Float, beta2: Float, eps: Float
        /// lr / (1 − β₁ᵗ)
        public var stepScale: Float
        /// 1 / (1 − β₂ᵗ)
        public var varianceScale: Float
    }

    public var coefficients: Coefficients {
        precondition(t > 0, "call beginStep() first")
        return Coefficients(beta1: beta1, beta2: beta2, eps: eps,
                            stepScale: Float(1 / (1 - pow(Double(beta1), Double(t)))) * lr,
                            varianceScale: Float(1 / (1 - pow(Double(beta2), Double(t)))))
    }

    /// One Adam update of `n` contiguous elements.
    public static func step(_ param: FloatPtr, grad: ConstFloatPtr, m: FloatPtr, v: FloatPtr, count n: Int, _ c: Coefficients) {
        let b1 = SIMD8<Float>(repeating: c.beta1), b1c = SIMD8<Float>(repeating: 1 - c.beta1)
        let b2 = SIMD8<Float>(repeating: c.beta2), b2c = SIMD8<Float>(repeating: 1 - c.beta2)
        let s1 = SIMD8<Float>(repeating: c.stepScale), s2 = SIMD8<Float>(repeating: c.varianceScale)
        let e = SIMD8<Float>(repeating: c.eps)
        var i = 0
        while i + 8 <= n {
            let g = load8(grad + i)
            let mi = b1 * load8(m + i) + b1c * g
            let vi = b2 * load8(v + i) + b2c * g * g
            store8(mi, m + i); store8(vi, v + i)
            store8(load8(param + i) - s1 * mi / (sqrtNonNegative(vi * s2) + e), param + i)
            i += 8
        }
        while i < n {
            let g = grad[i]
            m[i] = c.beta1 * m[i] + (1 - c.beta1) * g
            v[i] = c.beta2 * v[i] + (1 - c.beta2) * g * g
            param[i] -= c.stepScale * m[i] / ((v[i] * c.varianceScale).squareRoot() + c.eps)
            i += 1
        }
    }

    /// Array convenience for `update`.
    public func update(_ param: inout [Float], grad: [Float], state: inout AdamState) {
        precondition(param.count == grad.count)
        param.withUnsafeMutableBufferPointer { p in
            grad.withUnsafeBufferPointer { g in update(p.baseAddress!, grad: g.baseAddress!, state: &state, count: p.count) }
        }
    }
}

/// First and second moment estimates for one parameter buffer.
public struct AdamState: Sendable, Codable, Equatable {
    public var m: [Float]
    public var v: [Float]
    public init(count: Int) { m = [Float](repeating: 0, count: count); v = m }

    /// Forgets the moments of elements `range` (used when a dead latent is re-initialised).
    public mutating func reset(_ indices: some Sequence<Int>) {
        for i in indices { m[i] = 0; v[i] = 0 }
    }
}
