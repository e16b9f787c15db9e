// Status and Result, and the version macros.
#include "plexus/status.h"

#include <gtest/gtest.h>

#include <string>

#include "plexus/version.h"

namespace {

using plexus::Result;
using plexus::Status;
using plexus::StatusCode;

TEST(StatusTest, EqualMeansTheSameCodeAndTheSameMessage) {
  EXPECT_EQ(Status::OK(), Status());
  EXPECT_EQ(Status(StatusCode::kNotFound, "x"), Status(StatusCode::kNotFound, "x"));
  EXPECT_NE(Status(StatusCode::kNotFound, "x"), Status(StatusCode::kNotFound, "y"));
  EXPECT_NE(Status(StatusCode::kNotFound, "x"), Status(StatusCode::kTimeout, "x"));
  EXPECT_NE(Status(StatusCode::kOk, "note"), Status::OK());
}

TEST(StatusTest, ToStringNamesTheCodeAndTheMessage) {
  EXPECT_EQ(Status::OK().to_string(), "ok");
  EXPECT_EQ(Status(StatusCode::kTimeout, "call timed out").to_string(),
            std::string(plexus::status_code_name(StatusCode::kTimeout)) + ": call timed out");
}

TEST(StatusTest, AResultHoldsAValueOrItsStatus) {
  Result<int> value = 7;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  Result<int> error = Status(StatusCode::kInvalidArgument, "no");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status(), Status(StatusCode::kInvalidArgument, "no"));
}

TEST(VersionTest, TheMacrosAgree) {
  EXPECT_EQ(std::string(PLEXUS_VERSION_STRING), std::to_string(PLEXUS_VERSION_MAJOR) + "." +
                                                    std::to_string(PLEXUS_VERSION_MINOR) + "." +
                                                    std::to_string(PLEXUS_VERSION_PATCH));
}

}  // namespace
