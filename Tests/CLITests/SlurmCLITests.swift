// `rlhub grid --executor slurm` against a real Slurm (scripts/slurm-local.sh up; `make test` does
// it): the smoke grid gives the local executor's numbers bit for bit, a cancelled task resumes, a
// killed submitter loses nothing, a second submission while the first is queued is refused, and
// submissions of one spec at once create and submit each cell's run once.
// Skipped when SLURM_CONF is unset, unless RLHUB_REQUIRE_SLURM=1 (then that is a failure).
import Foundation
import Testing

let slurmConf = ProcessInfo.processInfo.environment["SLURM_CONF"].flatMap { $0.isEmpty ? nil : $0 }
let slurmRequired = ProcessInfo.processInfo.environment["RLHUB_REQUIRE_SLURM"] == "1"

let smokeSpec: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("experiments/smoke.yaml").path

/// Waits until `done` holds (polling), up to `seconds`.
func waitUntil(_ seconds: Double, _ done: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try done() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return false
}

/// `rlhub grid status SPEC --format csv` rows as [cell: state].
func slurmStates(spec: String, store: String) throws -> [String: String] {
    let csv = try rlhub("grid", "status", spec, "--store", store, "--format", "csv").out
    var out: [String: String] = [:]
    for line in csv.split(separator: "\n").dropFirst() {
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        if f.count > 1 { out[String(f[0])] = String(f[1]) }
    }
    return out
}

@Suite("Slurm availability")
struct SlurmAvailabilityTests {
    @Test func slurmIsUpWhenRequired() {
        #expect(!(slurmRequired && slurmConf == nil), "RLHUB_REQUIRE_SLURM=1 but SLURM_CONF is unset: run scripts/slurm-local.sh up")
    }
}

@Suite("rlhub grid on Slurm", .serialized, .enabled(if: slurmConf != nil, "SLURM_CONF is unset: run scripts/slurm-local.sh up"))
struct SlurmCLITests {
    @Test func smokeGridOnSlurmEqualsLocal() throws {
        let dir = tempDir()
        var t0 = Date()
        let local = try rlhub("grid", smokeSpec, "--store", dir + "/local", "--jobs", "2", "--threads", "1")
        let localSeconds = Date().timeIntervalSince(t0)
        #expect(local.status == 0, "\(local.err)")
        t0 = Date()
        let slurm = try rlhub("grid", smokeSpec, "--executor", "slurm", "--wait", "--threads", "1", "--store", dir + "/slurm")
        let slurmSeconds = Date().timeIntervalSince(t0)
        #expect(slurm.status == 0, "\(slurm.out) \(slurm.err)")
        print("smoke grid wall time: local --jobs 2 --threads 1 \(String(format: "%.1f", localSeconds)) s, slurm --threads 1 \(String(format: "%.1f", slurmSeconds)) s")
        let a = try gridResults(store: dir + "/local"), b = try gridResults(store: dir + "/slurm")
        #expect(a.count == 4)
        #expect(a == b)
        // Everything is home: another submission runs nothing; collect finds nothing new.
        let again = try rlhub("grid", smokeSpec, "--executor", "slurm", "--store", dir + "/slurm")
        #expect(again.status == 0 && again.out.contains("nothing to run"), "\(again.out) \(again.err)")
        #expect(try rlhub("grid", "collect", smokeSpec, "--store", dir + "/slurm").out.contains("collected 0 runs"))
        #expect(try slurmStates(spec: smokeSpec, store: dir + "/slurm").values.allSatisfy { $0 == "finished" })
    }

    @Test func aCancelledTaskIsReportedAndResumes() throws {
        let dir = tempDir(), store = dir + "/store"
        // 40 steps instead of 6, so the task is still running when the cancel arrives.
        let longSpec = dir + "/smoke.yaml"
        try (try String(contentsOfFile: smokeSpec, encoding: .utf8)).replacingOccurrences(of: "steps: 6", with: "steps: 40")
            .write(toFile: longSpec, atomically: true, encoding: .utf8)
        let submit = try rlhub("grid", longSpec, "--executor", "slurm", "--only", "grpo/*/seed0", "--threads", "1", "--store", store)
        #expect(submit.status == 0 && submit.out.contains("submitted Slurm array job"), "\(submit.out) \(submit.err)")
        // Cancel once the task is past its first checkpoint (step 3).
        let past = try waitUntil(60) {
            let csv = try rlhub("grid", "status", longSpec, "--store", store, "--format", "csv").out
            return csv.split(separator: "\n").contains { line in
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard f.count > 3, f[0] == "grpo/add/seed0", f[1] == "running",
                      let done = Int(f[3].split(separator: "/").first ?? "") else { return false }
                return done >= 4 && done < 40
            }
        }
        #expect(past)
        let cancel = try rlhub("grid", "cancel", longSpec, "--store", store)
        #expect(cancel.out.contains("cancelled"), "\(cancel.out) \(cancel.err)")
        #expect(try waitUntil(10) { try slurmStates(spec: longSpec, store: store)["grpo/add/seed0"] == "cancelled" })
        let status = try rlhub("grid", "status", longSpec, "--store", store, "--format", "csv").out
        #expect(status.contains(".log"), "\(status)")
        // Resubmission finishes the cell from its checkpoint.
        let resumed = try rlhub("grid", longSpec, "--executor", "slurm", "--only", "grpo/*/seed0", "--threads", "1", "--wait", "--store", store)
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(try slurmStates(spec: longSpec, store: store)["grpo/add/seed0"] == "finished")
        let reference = dir + "/reference"
        #expect(try rlhub("grid", longSpec, "--only", "grpo/*/seed0", "--threads", "1", "--jobs", "1", "--store", reference).status == 0)
        #expect(try gridResults(store: store) == (try gridResults(store: reference)))
    }

    @Test func aKilledSubmitterLosesNothingAndASecondSubmissionIsRefused() throws {
        let dir = tempDir(), store = dir + "/store"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try rlhubBinary)
        p.arguments = ["grid", smokeSpec, "--executor", "slurm", "--wait", "--threads", "1", "--max-parallel", "2", "--store", store]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        #expect(waitUntil(30) { FileManager.default.fileExists(atPath: store + "/slurm/submissions.json") })
        Thread.sleep(forTimeInterval: 1)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let second = try rlhub("grid", smokeSpec, "--executor", "slurm", "--threads", "1", "--store", store)
        #expect(second.status == 2, "\(second.out) \(second.err)")
        #expect(second.err.contains("Slurm job") && second.err.range(of: #"job \d+_\d"#, options: .regularExpression) != nil, "\(second.err)")
        let collected = try rlhub("grid", "collect", smokeSpec, "--wait", "--store", store)
        #expect(collected.status == 0, "\(collected.err)")
        let finished = try rlhub("runs", "--store", store, "--where", "status = 'finished'", "--format", "csv")
        #expect(finished.out.split(separator: "\n").count == 5, "\(finished.out)")
    }

    /// Three submissions of the smoke grid into one store at once: each cell's run is created once
    /// (claimed in one transaction per cell) and submitted in exactly one array task; collected,
    /// the store holds one finished run per cell.
    @Test func concurrentSubmissionsCreateAndSubmitEachCellOnce() throws {
        let dir = tempDir(), store = dir + "/store"
        let results = try ConcurrencyCLITests.together(Array(
            repeating: ["grid", smokeSpec, "--executor", "slurm", "--threads", "1", "--store", store], count: 3))
        for (i, r) in results.enumerated() {
            // A submission that reads the others' saved job before it claims is refused by name.
            #expect(r.status == 0 || (r.status == 2 && r.err.contains("Slurm job")), "submission \(i): exit \(r.status): \(r.err)")
        }
        #expect(results.contains { $0.status == 0 })
        let data = try Data(contentsOf: URL(fileURLWithPath: store + "/slurm/submissions.json"))
        let submissions = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        let submitted = submissions.flatMap { $0["runs"] as? [String] ?? [] }
        #expect(submitted.count == 4 && Set(submitted).count == 4, "\(submissions)")
        let collected = try rlhub("grid", "collect", smokeSpec, "--wait", "--store", store)
        #expect(collected.status == 0, "\(collected.err)")
        let counts = try ConcurrencyCLITests.runsPerCell(store)
        #expect(counts.count == 4 && counts.values.allSatisfy { $0 == 1 }, "\(counts)")
        let finished = try rlhub("runs", "--store", store, "--where", "status = 'finished'", "--format", "csv")
        #expect(finished.out.split(separator: "\n").count == 5, "\(finished.out)")
    }
}
