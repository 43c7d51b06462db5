// Temporary folders for tests, removed when the test process exits: test runs left model copies
// (≈ 0.5 GB each) and stores behind in the temporary directory, and filled the disk.
import Foundation
import Synchronization

private let createdFolders = Mutex<[String]>([])
private let removeCreatedFoldersAtExit: Void = {
    atexit {
        for path in createdFolders.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}()

/// A new empty folder `PREFIX-UNIQUE` in the temporary directory, deleted at process exit.
public func makeTemporaryFolder(prefix: String) -> String {
    _ = removeCreatedFoldersAtExit
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    createdFolders.withLock { $0.append(path) }
    return path
}
