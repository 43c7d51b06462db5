// rlhub — the only file that imports oneDNN: matmul primitives (fp32 and bf16), cached by shape.
//
// oneDNN (Debian's libdnnl, the library PyTorch's CPU backend runs on) JIT-compiles a matmul for
// each shape; creating one costs ≈ 0.4 ms, so primitives are cached by their full description and
// the cache is emptied when it reaches `capacity` (training sees a new row count per micro-batch).
// Operands are described by strides, so a transposed operand is the same memory read differently
// and a bf16 weight copy serves x·Wᵀ and dY·W alike. Accumulation (β = 1) is oneDNN's sum post-op.
// Calls are serialised by one lock: the scratchpad and the bf16 conversion buffers are shared.
// oneDNN's CPU matmul has no atomics, so for a given thread count its results are bit-reproducible
// (Tests/TensorTests/BF16Tests.swift checks it).
@preconcurrency import CDNNL
import Synchronization

/// Matrix products on oneDNN. Use ``GEMM``, which decides when oneDNN runs.
public enum OneDNN {
    /// Element type of an operand.
    public enum DataType: Sendable { case fp32, bf16 }

    /// oneDNN's version, e.g. `2.6.3`.
    public static var version: String {
        guard let v = dnnl_version()?.pointee else { return "unknown" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// The instruction set oneDNN dispatches to on this CPU (e.g. `avx512_core_bf16`, `avx2`).
    public static var isa: String {
        switch dnnl_get_effective_cpu_isa() {
        case dnnl_cpu_isa_avx512_core_amx: "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: "avx512_core"
        case dnnl_cpu_isa_avx2_vnni: "avx2_vnni"
        case dnnl_cpu_isa_avx2: "avx2"
        case dnnl_cpu_isa_avx: "avx"
        case dnnl_cpu_isa_sse41: "sse41"
        default: "other"
        }
    }

    /// The implementation oneDNN picks for a bf16 matmul here (e.g. `brg:avx512_core_bf16`), or nil
    /// when it has none. A reference implementation (`ref`/`gemm:ref`) counts as none: it would be
    /// correct but hundreds of times slower, so bf16 settings are refused instead.
    public static let bf16Implementation: String? = {
        let name = context.withLock { ctx in
            ctx.implementation(MatmulKey(
                M: 64, N: 64, K: 64, transA: false, transB: true, lda: 64, ldb: 64, ldc: 64,
                type: .bf16, accumulate: false))
        }
        guard let name, !name.contains("ref") else { return nil }
        return name
    }()

    /// The implementation oneDNN picks for an fp32 matmul of this shape (diagnostics, `rlhub doctor`).
    public static func fp32Implementation(M: Int, N: Int, K: Int) -> String? {
        context.withLock { ctx in
            ctx.implementation(MatmulKey(
                M: M, N: N, K: K, transA: false, transB: true, lda: K, ldb: K, ldc: N, type: .fp32,
                accumulate: false))
        }
    }

    /// `C = op(A)·op(B) + β·C` in row-major storage with fp32 or bf16 inputs and an fp32 result
    /// (fp32 accumulation). fp32 operands of a bf16 product are converted here, into buffers the
    /// calls share (no allocation once they have grown to the largest shape).
    /// - Parameter sameA: the caller guarantees A is the fp32 matrix of the previous bf16 product,
    ///   unchanged since (Matmul's backward: dY in both of its products), so its conversion is reused.
    static func matmul(
        type: DataType, transA: Bool, transB: Bool, M: Int, N: Int, K: Int,
        A: GEMM.Operand, lda: Int, B: GEMM.Operand, ldb: Int,
        beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int, sameA: Bool = false
    ) {
        precondition(beta == 0 || beta == 1, "OneDNN.matmul: β must be 0 or 1")
        let threads = Int32(ComputeThreads.count)
        context.withLock { ctx in
            var lda = lda, ldb = ldb
            let a = ctx.operand(A, type: type, rows: transA ? K : M, cols: transA ? M : K, ld: &lda, slot: 0, reuse: sameA)
            let b = ctx.operand(B, type: type, rows: transB ? N : K, cols: transB ? K : N, ld: &ldb, slot: 1)
            var key = MatmulKey(
                M: M, N: N, K: K, transA: transA, transB: transB, lda: lda, ldb: ldb, ldc: ldc, type: type,
                accumulate: beta == 1)
            if case .packedBF16(let p) = B {
                precondition(type == .bf16 && transB && p.rows == N && p.cols == K, "OneDNN.matmul: packed weight \(p.rows)×\(p.cols) used as a \(N)×\(K) Wᵀ")
                (key.transB, key.ldb, key.packed) = (false, 0, true)
            }
            let p = ctx.primitive(key)
            omp_set_num_threads(threads)
            ctx.execute(p, a: a, b: b, c: UnsafeMutableRawPointer(C))
        }
    }

    /// A packed bf16 copy of W [`rows` = O, `cols` = I] for y = x·Wᵀ, or nil when oneDNN has no
    /// packed layout here.
    public static func packedMatrix(rows: Int, cols: Int) -> PackedBF16Matrix? {
        context.withLock { ctx in
            ctx.packedLayout(K: cols, N: rows).map { PackedBF16Matrix(rows: rows, cols: cols, layout: $0) }
        }
    }

    /// Rounds W (fp32, [O, I] row-major) to bf16 into `matrix`'s packed layout (oneDNN's reorder:
    /// round to nearest even, as ``BFloat16``).
    public static func pack(_ w: UnsafePointer<Float>, into matrix: PackedBF16Matrix) {
        let threads = Int32(ComputeThreads.count)
        context.withLock { ctx in
            omp_set_num_threads(threads)
            ctx.pack(w, into: matrix)
        }
    }

    // MARK: - State behind the lock

    /// Which fp32 matrix a conversion slot holds (storage and shape), for `sameA`.
    struct ConvertedOperand: Equatable {
        var source: UnsafeRawPointer
        var rows, cols, ld: Int
    }

    struct MatmulKey: Hashable {
        var M, N, K: Int
        var transA, transB: Bool
        var lda, ldb, ldc: Int
        var type: DataType
        var accumulate: Bool
        /// B is a ``PackedBF16Matrix`` (oneDNN's own layout for this K × N) rather than strided.
        var packed = false
    }

    /// A created primitive and the memory objects it is executed with (data handles set per call).
    final class Primitive {
        let primitive: dnnl_primitive_t
        let src: dnnl_memory_t, weights: dnnl_memory_t, dst: dnnl_memory_t
        let scratchpad: dnnl_memory_t?
        let scratchBytes: Int
        let implementation: String
        /// The execution arguments: the memory objects are fixed, only their data handles change.
        var args: [dnnl_exec_arg_t]

        init(
            primitive: dnnl_primitive_t, src: dnnl_memory_t, weights: dnnl_memory_t, dst: dnnl_memory_t,
            scratchpad: dnnl_memory_t?, scratchBytes: Int, implementation: String
        ) {
            self.primitive = primitive
            self.src = src
            self.weights = weights
            self.dst = dst
            self.scratchpad = scratchpad
            self.scratchBytes = scratchBytes
            self.implementation = implementation
            args = [
                dnnl_exec_arg_t(arg: DNNL_ARG_SRC_0, memory: src), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS_0, memory: weights),
                dnnl_exec_arg_t(arg: DNNL_ARG_DST_0, memory: dst),
            ]
            if let scratchpad { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad)) }
        }

        deinit {
            dnnl_primitive_destroy(primitive)
            for m in [src, weights, dst] { dnnl_memory_destroy(m) }
            if let scratchpad { dnnl_memory_destroy(scratchpad) }
        }
    }

    final class Context: @unchecked Sendable {
        var engine: dnnl_engine_t?
        var stream: dnnl_stream_t?
        var cache: [MatmulKey: Primitive] = [:]
        /// Primitives kept at most; the cache is emptied when full (a new row count per micro-batch
        /// would otherwise grow it without bound).
        let capacity = 512
        var scratch = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        var scratchBytes = 64
        /// bf16 copies of fp32 operands: slot 0 for A, 1 for B, and what each last converted.
        var converted: [BFloat16Buffer] = [BFloat16Buffer(count: 0), BFloat16Buffer(count: 0)]
        var lastConverted: [ConvertedOperand?] = [nil, nil]

        init() {
            check(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine")
            check(dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)), "stream")
        }

        /// The operand as oneDNN reads it: a bf16 product converts an fp32 operand (stored `rows × cols`,
        /// row stride `ld`) into a contiguous buffer and sets `ld` to `cols`.
        func operand(
            _ op: GEMM.Operand, type: DataType, rows: Int, cols: Int, ld: inout Int, slot: Int, reuse: Bool = false
        ) -> UnsafeMutableRawPointer {
            switch (op, type) {
            case (.fp32(let p), .fp32): return UnsafeMutableRawPointer(mutating: p)
            case (.bf16(let p), .bf16): return UnsafeMutableRawPointer(mutating: p)
            case (.packedBF16(let p), .bf16): return p.pointer
            case (.packedBF16, .fp32): preconditionFailure("OneDNN.matmul: a packed bf16 weight in an fp32 product")
            case (.fp32(let p), .bf16):
                let what = ConvertedOperand(source: UnsafeRawPointer(p), rows: rows, cols: cols, ld: ld)
                if !(reuse && lastConverted[slot] == what) {
                    if converted[slot].count < rows * cols { converted[slot] = BFloat16Buffer(count: rows * cols) }
                    BFloat16Conversion.convert(p, rows: rows, cols: cols, ld: ld, to: converted[slot].pointer)
                    lastConverted[slot] = what
                }
                ld = cols
                return UnsafeMutableRawPointer(converted[slot].pointer)
            case (.bf16, .fp32): preconditionFailure("OneDNN.matmul: a bf16 operand in an fp32 product")
            }
        }

        func execute(_ p: Primitive, a: UnsafeMutableRawPointer, b: UnsafeMutableRawPointer, c: UnsafeMutableRawPointer) {
            if p.scratchBytes > scratchBytes {
                scratch.deallocate()
                scratch = UnsafeMutableRawPointer.allocate(byteCount: p.scratchBytes, alignment: 64)
                scratchBytes = p.scratchBytes
            }
            dnnl_memory_set_data_handle(p.src, a)
            dnnl_memory_set_data_handle(p.weights, b)
            dnnl_memory_set_data_handle(p.dst, c)
            if let pad = p.scratchpad { dnnl_memory_set_data_handle(pad, scratch) }
            let status = p.args.withUnsafeBufferPointer { dnnl_primitive_execute(p.primitive, stream, Int32($0.count), $0.baseAddress) }
            check(status, "matmul execute")
            check(dnnl_stream_wait(stream), "stream wait")
        }

        func primitive(_ key: MatmulKey) -> Primitive {
            if let p = cache[key] { return p }
            guard let p = create(key) else {
                preconditionFailure("oneDNN has no matmul for \(key) on this CPU (ISA \(OneDNN.isa))")
            }
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = p
            return p
        }

        /// oneDNN's preferred bf16 layout of a K × N weight for products with few rows (queried once
        /// per shape at 64 rows; the same layout serves every row count), nil if it has none.
        var packedLayouts: [[Int]: dnnl_memory_desc_t] = [:]

        func packedLayout(K: Int, N: Int) -> dnnl_memory_desc_t? {
            if let md = packedLayouts[[K, N]] { return md }
            var aMD = dnnl_memory_desc_t(), bMD = dnnl_memory_desc_t(), cMD = dnnl_memory_desc_t()
            check(dnnl_memory_desc_init_by_strides(&aMD, 2, [64, Int64(K)], dnnl_bf16, [Int64(K), 1]), "src desc")
            check(dnnl_memory_desc_init_by_tag(&bMD, 2, [Int64(K), Int64(N)], dnnl_bf16, dnnl_format_tag_any), "weights desc")
            check(dnnl_memory_desc_init_by_strides(&cMD, 2, [64, Int64(N)], dnnl_f32, [Int64(N), 1]), "dst desc")
            var desc = dnnl_matmul_desc_t()
            check(dnnl_matmul_desc_init(&desc, &aMD, &bMD, nil, &cMD), "matmul desc")
            var pd: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&pd, &desc, nil, engine, nil) == dnnl_success, let pd else { return nil }
            defer { dnnl_primitive_desc_destroy(pd) }
            guard let md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)?.pointee else { return nil }
            packedLayouts[[K, N]] = md
            return md
        }

        /// Converts W [O, I] (fp32, row-major) into `into`, as B = Wᵀ in the packed bf16 layout.
        func pack(_ w: UnsafePointer<Float>, into p: PackedBF16Matrix) {
            var src = dnnl_memory_desc_t()
            check(dnnl_memory_desc_init_by_strides(&src, 2, [Int64(p.cols), Int64(p.rows)], dnnl_f32, [1, Int64(p.cols)]), "pack src")
            var dst = p.layout
            var rpd: dnnl_primitive_desc_t?
            check(dnnl_reorder_primitive_desc_create(&rpd, &src, engine, &dst, engine, nil), "pack reorder desc")
            defer { dnnl_primitive_desc_destroy(rpd) }
            var reorder: dnnl_primitive_t?
            check(dnnl_primitive_create(&reorder, rpd), "pack reorder")
            defer { dnnl_primitive_destroy(reorder) }
            var from: dnnl_memory_t?, to: dnnl_memory_t?
            check(dnnl_memory_create(&from, &src, engine, UnsafeMutableRawPointer(mutating: w)), "pack from")
            check(dnnl_memory_create(&to, &dst, engine, p.pointer), "pack to")
            defer { dnnl_memory_destroy(from); dnnl_memory_destroy(to) }
            var args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC_0, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_DST_0, memory: to)]
            check(dnnl_primitive_execute(reorder, stream, 2, &args), "pack")
            check(dnnl_stream_wait(stream), "stream wait")
        }

        func implementation(_ key: MatmulKey) -> String? {
            (cache[key] ?? create(key))?.implementation
        }

        /// A primitive for `key`, or nil when oneDNN has no implementation of it.
        func create(_ key: MatmulKey) -> Primitive? {
            let t = key.type == .bf16 ? dnnl_bf16 : dnnl_f32
            // A is (M, K), B is (K, N), C is (M, N); a transposed operand swaps its strides.
            var aMD = dnnl_memory_desc_t(), bMD = dnnl_memory_desc_t(), cMD = dnnl_memory_desc_t()
            let aStrides: [Int64] = key.transA ? [1, Int64(key.lda)] : [Int64(key.lda), 1]
            let bStrides: [Int64] = key.transB ? [1, Int64(key.ldb)] : [Int64(key.ldb), 1]
            check(dnnl_memory_desc_init_by_strides(&aMD, 2, [Int64(key.M), Int64(key.K)], t, aStrides), "src desc")
            if key.packed {
                guard let packed = packedLayout(K: key.K, N: key.N) else { return nil }
                bMD = packed
            } else {
                check(dnnl_memory_desc_init_by_strides(&bMD, 2, [Int64(key.K), Int64(key.N)], t, bStrides), "weights desc")
            }
            check(
                dnnl_memory_desc_init_by_strides(&cMD, 2, [Int64(key.M), Int64(key.N)], dnnl_f32, [Int64(key.ldc), 1]),
                "dst desc")
            var desc = dnnl_matmul_desc_t()
            check(dnnl_matmul_desc_init(&desc, &aMD, &bMD, nil, &cMD), "matmul desc")

            var attr: dnnl_primitive_attr_t?
            check(dnnl_primitive_attr_create(&attr), "attr")
            defer { dnnl_primitive_attr_destroy(attr) }
            check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode")
            if key.accumulate {
                var ops: dnnl_post_ops_t?
                check(dnnl_post_ops_create(&ops), "post-ops")
                defer { dnnl_post_ops_destroy(ops) }
                check(dnnl_post_ops_append_sum(ops, 1), "sum post-op")
                check(dnnl_primitive_attr_set_post_ops(attr, ops), "set post-ops")
            }
            var pd: dnnl_primitive_desc_t?
            guard dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil) == dnnl_success, let pd else { return nil }
            defer { dnnl_primitive_desc_destroy(pd) }
            var name: UnsafePointer<CChar>?
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
            var primitive: dnnl_primitive_t?
            check(dnnl_primitive_create(&primitive, pd), "primitive")

            func memory(_ md: UnsafePointer<dnnl_memory_desc_t>) -> dnnl_memory_t {
                var m: dnnl_memory_t?
                check(dnnl_memory_create(&m, md, engine, nil), "memory")
                return m!
            }
            let padMD = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)
            let padBytes = padMD.map { dnnl_memory_desc_get_size($0) } ?? 0
            return Primitive(
                primitive: primitive!, src: memory(&aMD), weights: memory(&bMD), dst: memory(&cMD),
                scratchpad: padBytes > 0 ? memory(padMD!) : nil, scratchBytes: padBytes,
                implementation: name.map { String(cString: $0) } ?? "unknown")
        }
    }

    static let context = Mutex<Context>(Context())
}

/// A weight in oneDNN's own bf16 layout for products with few rows (decode): the plain layout makes
/// the bf16 matmul reorder the whole weight into that layout in every call, which at 64 rows costs
/// as much memory traffic as the product itself. Packed once per optimizer step, used by every call.
public final class PackedBF16Matrix: @unchecked Sendable {
    /// O and I of the weight W [O, I].
    public let rows: Int, cols: Int
    let layout: dnnl_memory_desc_t
    let pointer: UnsafeMutableRawPointer
    /// Bytes of the packed copy (the layout may pad).
    public let byteCount: Int

    init(rows: Int, cols: Int, layout: dnnl_memory_desc_t) {
        self.rows = rows
        self.cols = cols
        self.layout = layout
        var md = layout
        byteCount = dnnl_memory_desc_get_size(&md)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 64))
    }

    deinit { pointer.deallocate() }
}

/// A failed oneDNN call that must succeed is a programming error (shapes are validated before).
private func check(_ status: dnnl_status_t, _ what: String) {
    precondition(status == dnnl_success, "oneDNN \(what) failed (status \(status.rawValue))")
}
