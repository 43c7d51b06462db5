// `rlhub stats`: table and JSON output, identical numbers for any thread count, and one-line
// bad-input errors (exit 2) for unknown metrics, algorithms and malformed rows.
import Foundation
import Testing

@Suite("rlhub stats")
struct StatsCLITests {
    /// Two algorithms on two tasks, with a step column (the last step counts) and a quoted name.
    func scoresFile() throws -> String {
        var csv = "step,algorithm,task,run,score\n"
        for (algorithm, base) in [("grpo", 0.6), ("\"ppo, clipped\"", 0.35)] {
            for task in ["add", "sort"] {
                for run in 0..<5 {
                    csv += "0,\(algorithm),\(task),\(run),0\n"
                    csv += "10,\(algorithm),\(task),\(run),\(base + 0.05 * Double(run))\n"
                }
            }
        }
        let path = tempDir() + "/scores.csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func tableAndJSON() throws {
        let path = try scoresFile()
        let table = try rlhub("stats", path, "--poi", "grpo,ppo, clipped", "--reps", "300")
        #expect(table.status == 0, "\(table.err)")
        #expect(table.out.contains("300 bootstrap reps"))
        #expect(table.out.contains("grpo") && table.out.contains("optimality-gap"))
        #expect(table.out.contains("P(grpo > ppo, clipped) = 1.0000"))
        let a = try rlhub("stats", path, "--metrics", "iqm,mean", "--reps", "300", "--seed", "4", "--format", "json", "--threads", "1")
        let b = try rlhub("stats", path, "--metrics", "iqm,mean", "--reps", "300", "--seed", "4", "--format", "json", "--threads", "2")
        #expect(a.status == 0 && a.out == b.out)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(a.out.utf8)) as? [String: Any])
        let algorithms = try #require(json["algorithms"] as? [[String: Any]])
        #expect(algorithms.map { $0["algorithm"] as? String } == ["grpo", "ppo, clipped"])
        let iqm = try #require((algorithms[0]["metrics"] as? [[String: Any]])?.first)
        #expect(iqm["metric"] as? String == "iqm")
        // grpo's final scores 0.6 … 0.8 on each task: 10 pooled, 2 cut each end → mean 0.7
        #expect(abs((iqm["estimate"] as? Double ?? 0) - 0.7) < 1e-12)
    }

    @Test func badInput() throws {
        let path = try scoresFile()
        expectBadInput(try rlhub("stats", path, "--metrics", "iqm,average"),
                       ["--metrics", "average", "iqm, mean, median, optimality-gap"])
        expectBadInput(try rlhub("stats", path, "--poi", "grpo,dqn"), ["--poi", "dqn", "grpo, ppo, clipped"])
        expectBadInput(try rlhub("stats", path, "--reps", "0"), ["--reps"])
        let bad = tempDir() + "/bad.csv"
        try "algorithm,task,run,score\na,t,0,0.5\na,t,1,high\n".write(toFile: bad, atomically: true, encoding: .utf8)
        expectBadInput(try rlhub("stats", bad), [bad, "line 3, column 4 (score)", "'high'"])
        expectBadInput(try rlhub("stats", "/nonexistent/scores.csv"), ["/nonexistent/scores.csv"])
        let help = try rlhub("stats", "--help")
        #expect(help.status == 0 && help.out.contains("Example: rlhub stats"))
    }
}
