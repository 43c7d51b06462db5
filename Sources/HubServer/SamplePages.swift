// rlhub — `/runs/ID/samples?step=N&shade=advantage|gap`: a run's recorded rollouts, one step per
// page, every token a span shaded by its advantage (blue > 0, red < 0) or by the gap between the
// trainer's and the sampler's log-prob (orange), its numbers in the span's title. Server-rendered,
// no script: the step links page through the run.
import Foundation
import Hummingbird
import RLHubCore
import Store
import Trainer

enum SamplePages {
    typealias E = HTMLPage

    /// What tokens are shaded by.
    enum Shade: String, CaseIterable {
        case advantage, gap
        var label: String { self == .advantage ? "advantage" : "log-prob gap |log π_θ − log π_sampler|" }
    }

    /// Log-prob gap at which the shading is full: e^0.5 ≈ 1.65× disagreement on a token's probability.
    static let fullGap = 0.5

    /// The page of one step's samples (default: the run's last step with samples).
    static func page(_ state: HubState, id: String, _ q: QueryParameters) throws -> Response {
        let run = try state.store.run(id)
        let shadeText = q["shade"] ?? Shade.advantage.rawValue
        guard let shade = Shade(rawValue: shadeText) else {
            throw InputError(file: "shade", message: "'\(shadeText.prefix(40))' is not one of: advantage, gap")
        }
        let steps = Array(Set(try state.store.sampleSteps(run: run.id).map(\.step))).sorted()
        var body = "<h1>Samples of run \(E.runLink(run.id))</h1>\n"
        body += "<p class=\"muted\">\(E.e("\(run.algo) · \(run.task) · seed \(run.seed)")) · recorded every samples_every-th step and at every evaluation.</p>\n"
        guard let last = steps.last else {
            body += "<p>This run recorded no samples.</p>\n"
            return Reply.html(HTMLPage.render(title: "Samples \(run.id)", body: body))
        }
        let step: Int
        if let text = q["step"] {
            guard let s = Int(text), steps.contains(s) else {
                throw InputError(file: "step", message: "no samples at step '\(text.prefix(20))' (steps: \(steps.map(String.init).joined(separator: ", ")))")
            }
            step = s
        } else {
            step = last
        }
        func link(step s: Int, shade sh: Shade, _ text: String) -> String {
            "<a href=\"/runs/\(E.e(queryEscape(run.id)))/samples?step=\(s)&amp;shade=\(sh.rawValue)\">\(text)</a>"
        }
        let index = steps.firstIndex(of: step)!
        var nav = [index > 0 ? link(step: steps[index - 1], shade: shade, "← step \(steps[index - 1])") : "<span class=\"muted\">←</span>"]
        nav += steps.map { $0 == step ? "<b>\($0)</b>" : link(step: $0, shade: shade, String($0)) }
        nav.append(index + 1 < steps.count ? link(step: steps[index + 1], shade: shade, "step \(steps[index + 1]) →") : "<span class=\"muted\">→</span>")
        body += "<nav class=\"steps\">steps: " + nav.joined(separator: " ") + "</nav>\n"
        body += "<p>shade by: " + Shade.allCases.map { $0 == shade ? "<b>\(E.e($0.label))</b>" : link(step: step, shade: $0, E.e($0.label)) }
            .joined(separator: " · ") + "</p>\n"
        let samples = try state.store.samples(run: run.id, step: step).map { s in (s, try RolloutSample.decode(s.json)) }
        // One scale per page, so that shades compare across samples.
        let maxAdvantage = samples.compactMap { $0.1.advantages?.map { abs(Double($0)) }.max() }.max() ?? 0
        body += legend(shade, maxAdvantage: maxAdvantage)
        for (stored, sample) in samples {
            body += card(stored, sample, shade: shade, maxAdvantage: maxAdvantage)
        }
        return Reply.html(HTMLPage.render(title: "Samples \(run.id) step \(step)", body: style + body))
    }

    /// One sample: its numbers, then its tokens.
    static func card(_ s: StoredSample, _ sample: RolloutSample, shade: Shade, maxAdvantage: Double) -> String {
        var facts = ["<b>\(E.e(s.kind))</b>", "problem \(sample.problem)", "group \(sample.group) · sample \(sample.sample)",
                     "reward <b>\(E.number(sample.reward))</b>"]
        if let a = sample.meanAdvantage { facts.append("mean advantage \(E.number(a))") }
        if let g = sample.maxLogprobGap { facts.append("max gap \(E.number(g))") }
        facts.append(E.e(sample.outcome ?? "–") + " · " + E.e(sample.finishReason) + (sample.truncated ? " · <b>truncated</b>" : ""))
        facts.append("\(sample.promptTokens) prompt + \(sample.responseTokens) response tokens")
        var tokens = ""
        for t in sample.tokens.indices {
            let piece = E.e(sample.pieces[t])
            guard sample.lossMask[t] == 1 else {
                tokens += "<span class=\"ctx\">\(piece)</span>"
                continue
            }
            var title = "sampler log-prob " + String(format: "%.4f", sample.samplerLogprobs[t])
            if let p = sample.policyLogprobs { title += " · policy log-prob " + String(format: "%.4f", p[t]) }
            if let a = sample.advantages { title += " · advantage " + String(format: "%.4f", a[t]) }
            tokens += "<span class=\"tok\" style=\"background:\(colour(sample, t, shade: shade, maxAdvantage: maxAdvantage))\" title=\"\(E.e(title))\">\(piece)</span>"
        }
        return "<section class=\"sample\">\n<p>" + facts.joined(separator: " · ") + "</p>\n<pre class=\"tokens\">" + tokens + "</pre>\n</section>\n"
    }

    /// The background of policy token `t`: advantage A → rgba(blue or red, |A|/max|A|); gap g →
    /// rgba(orange, min(1, g / 0.5)); white when the sample has no such number.
    static func colour(_ sample: RolloutSample, _ t: Int, shade: Shade, maxAdvantage: Double) -> String {
        switch shade {
        case .advantage:
            guard let a = sample.advantages.map({ Double($0[t]) }), maxAdvantage > 0 else { return "#ffffff" }
            let alpha = min(1, abs(a) / maxAdvantage) * 0.85
            return a >= 0 ? String(format: "rgba(0,114,178,%.3f)", alpha) : String(format: "rgba(213,94,0,%.3f)", alpha)
        case .gap:
            guard let p = sample.policyLogprobs else { return "#ffffff" }
            let gap = abs(Double(p[t]) - Double(sample.samplerLogprobs[t]))
            return String(format: "rgba(230,159,0,%.3f)", min(1, gap / fullGap) * 0.9)
        }
    }

    static func legend(_ shade: Shade, maxAdvantage: Double) -> String {
        switch shade {
        case .advantage:
            return "<p class=\"legend\"><span class=\"tok\" style=\"background:rgba(0,114,178,0.85)\">A = +\(E.number(maxAdvantage))</span> "
                + "<span class=\"tok\" style=\"background:rgba(0,114,178,0.3)\">A &gt; 0</span> <span class=\"tok\">A = 0</span> "
                + "<span class=\"tok\" style=\"background:rgba(213,94,0,0.3)\">A &lt; 0</span> "
                + "<span class=\"tok\" style=\"background:rgba(213,94,0,0.85)\">A = −\(E.number(maxAdvantage))</span> "
                + "<span class=\"ctx\">prompt and environment tokens</span> · evaluation samples have no advantage · hover a token for its numbers</p>\n"
        case .gap:
            return "<p class=\"legend\"><span class=\"tok\">gap 0</span> <span class=\"tok\" style=\"background:rgba(230,159,0,0.45)\">gap 0.25</span> "
                + "<span class=\"tok\" style=\"background:rgba(230,159,0,0.9)\">gap ≥ \(fullGap)</span> "
                + "<span class=\"ctx\">prompt and environment tokens</span> · evaluation samples record no policy log-prob · hover a token for its numbers</p>\n"
        }
    }

    static let style = """
        <style>
        .sample { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 12px; margin: 10px 0; max-width: 1100px; }
        pre.tokens { white-space: pre-wrap; word-break: break-word; background: #fff; padding: 4px 0; font-size: 14px; line-height: 1.7; }
        .tok { border-radius: 2px; padding: 1px 0; outline: 1px solid #d0d7de; font-family: ui-monospace, monospace; }
        .ctx { color: #8c959f; }
        nav.steps a, nav.steps b { margin-right: 6px; }
        </style>

        """
}
