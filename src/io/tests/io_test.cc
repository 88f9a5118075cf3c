#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "io/fault_injection_file_system.h"
#include "io/file_system.h"
#include "io/memory_file_system.h"

namespace braid::io {
namespace {

TEST(PathTest, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "/b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(DirName("/a/b"), "/a");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("a"), ".");
  EXPECT_EQ(DirName("a/b/"), "a");
}

// Exercises the FileSystem contract on any implementation.
void BasicContract(FileSystem* fs, const std::string& root) {
  ASSERT_TRUE(fs->CreateDirs(JoinPath(root, "x/y")).ok());
  ASSERT_TRUE(fs->CreateDirs(JoinPath(root, "x/y")).ok());
  std::string f = JoinPath(root, "x/y/f");
  {
    auto w = fs->NewWritableFile(f, OpenMode::kCreateNew);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append("hello ").ok());
    ASSERT_TRUE((*w)->Append("world").ok());
    EXPECT_EQ((*w)->Size(), 11u);
    ASSERT_TRUE((*w)->Sync().ok());
    ASSERT_TRUE((*w)->Truncate(5).ok());
    ASSERT_TRUE((*w)->Append("!").ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  {
    // AppendParts: one append of the concatenation.
    std::string g = JoinPath(root, "x/y/g");
    auto w = fs->NewWritableFile(g, OpenMode::kTruncate);
    ASSERT_TRUE(w.ok());
    const std::string big(300000, 'c');
    ASSERT_TRUE((*w)->Append("0").ok());
    ASSERT_TRUE((*w)->AppendParts({"ab", "", big, "d"}).ok());
    EXPECT_EQ((*w)->Size(), 1u + 2 + big.size() + 1);
    ASSERT_TRUE((*w)->Close().ok());
    EXPECT_EQ(*ReadFileToString(fs, g), "0ab" + big + "d");
  }
  EXPECT_EQ(fs->NewWritableFile(f, OpenMode::kCreateNew).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFileToString(fs, f), "hello!");
  {
    auto w = fs->NewWritableFile(f, OpenMode::kAppend);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->Size(), 6u);
    ASSERT_TRUE((*w)->Append("?").ok());
  }
  EXPECT_EQ(*fs->GetFileSize(f), 7u);
  auto r = fs->NewRandomAccessFile(f);
  ASSERT_TRUE(r.ok());
  char buf[16];
  EXPECT_EQ(*(*r)->Read(1, 3, buf), 3u);
  EXPECT_EQ(std::string(buf, 3), "ell");
  EXPECT_EQ(*(*r)->Read(5, 10, buf), 2u);
  EXPECT_EQ(*(*r)->Read(50, 10, buf), 0u);
  EXPECT_TRUE(fs->FileExists(f));
  EXPECT_FALSE(fs->FileExists(JoinPath(root, "nope")));
  EXPECT_TRUE(fs->NewRandomAccessFile(JoinPath(root, "nope")).status().IsNotFound());

  ASSERT_TRUE(WriteFileAtomically(fs, JoinPath(root, "x/meta"), "v1").ok());
  ASSERT_TRUE(WriteFileAtomically(fs, JoinPath(root, "x/meta"), "v2").ok());
  EXPECT_EQ(*ReadFileToString(fs, JoinPath(root, "x/meta")), "v2");
  EXPECT_EQ(ReadFileToString(fs, JoinPath(root, "x/meta"), 1).status().code(),
            StatusCode::kResourceExhausted);

  auto names = fs->ListDir(JoinPath(root, "x"));
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"meta", "y"}));

  ASSERT_TRUE(fs->RenameFile(f, JoinPath(root, "x/g")).ok());
  EXPECT_FALSE(fs->FileExists(f));
  ASSERT_TRUE(fs->TruncateFile(JoinPath(root, "x/g"), 2).ok());
  EXPECT_EQ(*ReadFileToString(fs, JoinPath(root, "x/g")), "he");
  ASSERT_TRUE(fs->DeleteFile(JoinPath(root, "x/g")).ok());
  EXPECT_TRUE(fs->DeleteFile(JoinPath(root, "x/g")).IsNotFound());
  ASSERT_TRUE(fs->SyncDir(JoinPath(root, "x")).ok());
  ASSERT_TRUE(fs->DeleteDirRecursive(JoinPath(root, "x")).ok());
  EXPECT_FALSE(fs->FileExists(JoinPath(root, "x/meta")));
  ASSERT_TRUE(fs->DeleteDirRecursive(JoinPath(root, "x")).ok());
}

TEST(PosixFileSystemTest, BasicContract) {
  char tmpl[] = "/tmp/braid_io_test_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  BasicContract(DefaultFileSystem(), tmpl);
  auto r = DefaultFileSystem()->NewWritableFile(std::string(tmpl) + "/f", OpenMode::kTruncate);
  ASSERT_TRUE(r.ok());
  auto ra = DefaultFileSystem()->NewRandomAccessFile(std::string(tmpl) + "/f");
  ASSERT_TRUE(ra.ok());
  EXPECT_GE((*ra)->fd(), 0);
  ASSERT_TRUE(DefaultFileSystem()->DeleteDirRecursive(tmpl).ok());
}

TEST(MemoryFileSystemTest, BasicContract) {
  MemoryFileSystem fs;
  BasicContract(&fs, "/root");
}

TEST(MemoryFileSystemTest, CrashDropsUnsyncedBytes) {
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  auto w = fs.NewWritableFile("/d/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("durable").ok());
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Append("-lost").ok());
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  fs.SimulateCrash();
  EXPECT_EQ(*ReadFileToString(&fs, "/d/f"), "durable");
  // The old handle writes into a detached copy.
  ASSERT_TRUE((*w)->Append("zombie").ok());
  ASSERT_TRUE((*w)->Sync().ok());
  EXPECT_EQ(*ReadFileToString(&fs, "/d/f"), "durable");
  EXPECT_EQ(fs.sync_count(), 2u);
}

TEST(MemoryFileSystemTest, CrashDropsUnsyncedDirectoryEntries) {
  MemoryFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/d").ok());
  // Directory never synced into "/": it and its synced file vanish.
  {
    auto w = fs.NewWritableFile("/d/f", OpenMode::kCreateNew);
    ASSERT_TRUE((*w)->Append("x").ok());
    ASSERT_TRUE((*w)->Sync().ok());
  }
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  fs.SimulateCrash();
  EXPECT_FALSE(fs.FileExists("/d"));
  EXPECT_FALSE(fs.FileExists("/d/f"));

  // Synced entries survive; unsynced rename and delete are undone.
  ASSERT_TRUE(fs.CreateDirs("/d").ok());
  ASSERT_TRUE(fs.SyncDir("/").ok());
  ASSERT_TRUE(WriteFileAtomically(&fs, "/d/a", "A").ok());
  ASSERT_TRUE(WriteFileAtomically(&fs, "/d/b", "B").ok());
  ASSERT_TRUE(fs.RenameFile("/d/a", "/d/c").ok());
  ASSERT_TRUE(fs.DeleteFile("/d/b").ok());
  {
    auto w = fs.NewWritableFile("/d/new", OpenMode::kCreateNew);
    ASSERT_TRUE((*w)->Sync().ok());
  }
  fs.SimulateCrash();
  EXPECT_EQ(*ReadFileToString(&fs, "/d/a"), "A");
  EXPECT_EQ(*ReadFileToString(&fs, "/d/b"), "B");
  EXPECT_FALSE(fs.FileExists("/d/c"));
  EXPECT_FALSE(fs.FileExists("/d/new"));
}

TEST(MemoryFileSystemTest, AtomicWriteLeavesOldOrNew) {
  MemoryFileSystem fs;
  ASSERT_TRUE(WriteFileAtomically(&fs, "/m", "old").ok());
  // Crash between writing the temp file and the rename.
  {
    auto w = fs.NewWritableFile("/m.tmp", OpenMode::kTruncate);
    ASSERT_TRUE((*w)->Append("new").ok());
  }
  fs.SimulateCrash();
  EXPECT_EQ(*ReadFileToString(&fs, "/m"), "old");
}

TEST(MemoryFileSystemTest, RawAccess) {
  MemoryFileSystem fs;
  fs.WriteRaw("/a/b/c", "raw");
  fs.SimulateCrash();
  EXPECT_EQ(*fs.ReadRaw("/a/b/c"), "raw");
  EXPECT_TRUE(fs.ReadRaw("/zz").status().IsNotFound());
}

TEST(FaultInjectionFileSystemTest, FailTearNoSpaceAndCounters) {
  MemoryFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  auto w = fs.NewWritableFile("/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.ok());
  fs.FailNthAppend(2);
  ASSERT_TRUE((*w)->Append("one").ok());
  EXPECT_EQ((*w)->Append("two").code(), StatusCode::kIOError);
  ASSERT_TRUE((*w)->Append("three").ok());
  fs.TearNthAppend(1, 2);
  EXPECT_EQ((*w)->Append("four").code(), StatusCode::kIOError);
  EXPECT_EQ(*mem.ReadRaw("/f"), "onethreefo");
  fs.FailNthSync(2);
  ASSERT_TRUE((*w)->Sync().ok());
  EXPECT_FALSE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Sync().ok());
  fs.SetNoSpace(true);
  EXPECT_EQ((*w)->Append("x").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fs.NewWritableFile("/g", OpenMode::kCreateNew).status().code(),
            StatusCode::kResourceExhausted);
  fs.SetNoSpace(false);
  ASSERT_TRUE((*w)->Append("x").ok());
  EXPECT_EQ(fs.append_count(), 6u);
  EXPECT_EQ(fs.sync_count(), 2u);
  EXPECT_EQ(fs.bytes_appended(), 9u);
  EXPECT_EQ(fs.injected_failures(), 5u);
}

TEST(FaultInjectionFileSystemTest, PassesContract) {
  MemoryFileSystem mem;
  FaultInjectionFileSystem fs(&mem);
  BasicContract(&fs, "/r");
}

}  // namespace
}  // namespace braid::io
