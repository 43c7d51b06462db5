// The long-format score table: CSV parsing (any column order, quotes, CRLF), final scores and
// curves, and errors that name the file, line and column.
import Evaluation
import Foundation
import RLHubCore
import TestSupport
import Testing

@Suite("Score table")
struct ScoreTableTests {
    @Test func anyColumnOrderQuotesAndExtraColumns() throws {
        let csv = "\u{FEFF}Score, run ,note,TASK,algorithm\r\n"
            + "0.5,1,x,\"sort:n=5,k=2\",grpo\r\n"
            + "0.25,0,\"multi\nline\",\"sort:n=5,k=2\",grpo\r\n"
            + "\r\n"
            + " 1 ,10,,add,\"gr\"\"po\"\n"
            + "0.75,2,,add,ppo"
        let t = try ScoreTable.parse(csv, file: "s.csv")
        #expect(!t.hasSteps)
        #expect(t.rows.map(\.line) == [2, 3, 6, 7])
        #expect(t.rows[0] == ScoreRow(algorithm: "grpo", task: "sort:n=5,k=2", run: "1", score: 0.5, line: 2))
        #expect(t.rows[2].algorithm == "gr\"po" && t.rows[2].score == 1)
        #expect(t.algorithms == ["gr\"po", "grpo", "ppo"])
        let m = t.finalScores()
        // runs ordered by id, so run 0 comes first
        #expect(m["grpo"] == ScoreMatrix(["sort:n=5,k=2": [0.25, 0.5]]))
        #expect(m["ppo"]?.tasks == ["add"])
    }

    @Test func stepsGiveFinalScoresAndCurves() throws {
        let csv = """
            algorithm,task,run,step,score
            a,t,2,10,0.3
            a,t,2,0,0.1
            a,t,10,0,0.0
            a,t,10,10,0.9
            a,u,0,10,0.5
            a,u,0,0,0.2
            """
        let t = try ScoreTable.parse(csv, file: "c.csv")
        #expect(t.hasSteps)
        #expect(t.finalScores()["a"] == ScoreMatrix(["t": [0.3, 0.9], "u": [0.5]]))  // run 2 before run 10
        let c = try #require(try t.curves()["a"])
        #expect(c.steps == [0, 10])
        #expect(c.tasks == ["t", "u"])
        #expect(c.runs == [[[0.1, 0.3], [0.0, 0.9]], [[0.2, 0.5]]])
        let gap = try ScoreTable.parse(csv + "\na,u,1,10,0.4", file: "c.csv")
        #expect(throws: InputError(
            file: "c.csv", field: "algorithm a, task u, run 1",
            message: "no score at step 0; every run of an algorithm needs the same steps")) { try gap.curves() }
        #expect(throws: InputError.self) { try ScoreTable.parse("algorithm,task,run,score\na,t,0,1", file: "x").curves() }
    }

    // Lines separated by "|" (keeps the test names on one line).
    @Test(arguments: [
        ("algorithm,task,score|a,t,1", "s.csv: line 1: header has no 'run' column; expected algorithm,task,run,score[,step] (any order)"),
        ("algorithm,task,run,score|a,t,0,abc", "s.csv: line 2, column 4 (score): 'abc' is not a finite number"),
        ("algorithm,task,run,score|a,t,0,nan", "s.csv: line 2, column 4 (score): 'nan' is not a finite number"),
        ("task,algorithm,run,score,step|t,a,0,1,1.5", "s.csv: line 2, column 5 (step): '1.5' is not an integer step"),
        ("algorithm,task,run,score|a,t,0,1||a,t,1", "s.csv: line 4: 3 fields, but the header has 4"),
        ("algorithm,task,run,score|a, ,0,1", "s.csv: line 2, column 2 (task): empty task"),
        ("algorithm,task,run,score|a,t,0,1|a,t,0,2", "s.csv: line 3: run '0' of a on t repeats line 2"),
        ("algorithm,task,run,score|a,\"t,0,1|", "s.csv: line 2, column 2: quoted field is not closed"),
        ("algorithm,task,run,score|a,\"t\"x,0,1", "s.csv: line 2, column 2: unexpected text after a closing quote (write \"\" for a quote inside a quoted field)"),
        ("algorithm,task,run,Task,score|", "s.csv: line 1, column 4: column 'task' appears twice"),
        ("algorithm,task,run,score||", "s.csv: no score rows after the header"),
        ("", "s.csv: empty file; expected a header algorithm,task,run,score[,step]"),
    ] as [(String, String)])
    func badInputNamesLineAndColumn(csv: String, message: String) {
        do {
            _ = try ScoreTable.parse(csv.replacingOccurrences(of: "|", with: "\n"), file: "s.csv")
            Issue.record("accepted: \(csv)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func readsAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("scores-\(UUID().uuidString).csv")
        try Data("algorithm,task,run,score\na,t,0,1\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try ScoreTable.read(path: url.path).rows.count == 1)
        #expect(throws: InputError(file: "/nonexistent/s.csv", message: "cannot read the file")) {
            try ScoreTable.read(path: "/nonexistent/s.csv")
        }
    }
}

@Suite("Learning curves")
struct LearningCurveTests {
    let runs = [
        LearningCurve(group: "b", points: [(20, 2), (0, 0), (10, 1), (10, 1.5)]),  // unsorted; step 10 repeated
        LearningCurve(group: "b", steps: [0, 5, 10, 20, 30], values: [1, 2, 3, 4, 5]),
        LearningCurve(group: "a", steps: [0, 10], values: [7, 9]),
    ]

    @Test func pointsAreSortedAndTheLastDuplicateWins() {
        #expect(runs[0].steps == [0, 10, 20] && runs[0].values == [0, 1.5, 2])
    }

    @Test func alignment() {
        let b = Array(runs[0...1])
        let i = CurveGrouping.align(b, .intersection)
        #expect(i.steps == [0, 10, 20] && i.values == [[0, 1.5, 2], [1, 3, 4]])
        // span [max first, min last] = [0, 20]; step 5 carries run 0's value at step 0
        let f = CurveGrouping.align(b, .forwardFill)
        #expect(f.steps == [0, 5, 10, 20] && f.values == [[0, 0, 1.5, 2], [1, 2, 3, 4]])
    }

    @Test func bandsWithStudentT() {
        let bands = CurveGrouping().bands(runs)
        #expect(bands.map(\.group) == ["a", "b"])
        #expect(bands[0].runs == 1 && bands[0].mean == [7, 9] && bands[0].lower == [7, 9] && bands[0].upper == [7, 9])
        let b = bands[1]
        #expect(b.steps == [0, 10, 20] && b.mean == [0.5, 2.25, 3])
        // n = 2 at step 0: values 0 and 1, s = √0.5, half-width t_{0.975,1}·s/√2 = 12.7062…·0.5
        expectClose(b.upper[0] - b.mean[0], 12.706204736174694 * 0.5, atol: 1e-10, "t half-width")
        expectClose(b.mean[0] - b.lower[0], 12.706204736174694 * 0.5, atol: 1e-10, "symmetric")
    }

    @Test func emaAndDownsampling() {
        #expect(CurveGrouping.ema([1, 2, 3], weight: 0) == [1, 2, 3])
        // debiased: first value kept; second (0.5·0.5·1 + 0.5·2)/(1 − 0.25) = 1.25/0.75
        let e = CurveGrouping.ema([1, 2], weight: 0.5)
        expectClose(e[0], 1, atol: 1e-15, "ema[0]")
        expectClose(e[1], 1.25 / 0.75, atol: 1e-15, "ema[1]")
        #expect(CurveGrouping.ema([4, 4, 4], weight: 0.9).allSatisfy { abs($0 - 4) < 1e-12 })
        #expect(CurveGrouping.downsampleIndices(count: 5, to: 10) == [0, 1, 2, 3, 4])
        #expect(CurveGrouping.downsampleIndices(count: 11, to: 3) == [0, 5, 10])
        #expect(CurveGrouping.downsampleIndices(count: 10, to: 4) == [0, 3, 6, 9])
        #expect(CurveGrouping.downsampleIndices(count: 7, to: 1) == [6])
        let long = (0..<100).map { LearningCurve(group: "g", steps: Array(0..<50).map { $0 * 2 }, values: Array(repeating: Double($0), count: 50)) }
        let band = CurveGrouping(smoothing: 0.6, points: 5).bands(long)[0]
        #expect(band.steps == [0, 24, 50, 74, 98] && band.runs == 100)  // indices round(j·49/4)
    }
}
