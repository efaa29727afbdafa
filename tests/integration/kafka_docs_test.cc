// docs/consumers.md's examples run against the test broker: every fenced
// block tagged `sh` or `python` under "Worked examples" runs with $BROKERS
// and $TOPIC set to a topic holding alerts, and must exit 0 and print the
// alert ids it consumed.
#include <gtest/gtest.h>

#include "tests/integration/kafka_test_util.h"

namespace eventsift::testing {
namespace {

struct Example {
  std::string lang, code;
  int line = 0;
};

std::vector<Example> ExamplesOf(const std::string& markdown) {
  std::vector<Example> out;
  std::istringstream in(markdown);
  std::string line;
  int n = 0;
  Example* open = nullptr;
  bool in_examples = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("## ", 0) == 0) in_examples = line.find("Worked examples") != std::string::npos;
    if (open == nullptr && in_examples && (line == "```sh" || line == "```python")) {
      out.push_back({line.substr(3), "", n});
      open = &out.back();
    } else if (open != nullptr && line == "```") {
      open = nullptr;
    } else if (open != nullptr) {
      open->code += line + "\n";
    }
  }
  return out;
}

TEST(KafkaDocsTest, ConsumerExamplesRun) {
  const std::string broker = Broker();
  ASSERT_FALSE(broker.empty());
  fs::path work = ScratchDir();
  const std::string topic = UniqueName("docs");
  ASSERT_TRUE(CreateTopic(topic, 3));
  ASSERT_EQ(Shell(ProduceCommand(work, 12, 0,
                                 "--kafka-brokers " + broker + " --kafka-topic " + topic +
                                     " --spool-dir '" + (work / "spool").string() + "'",
                                 work / "alerts.ndjson"))
                .exit_code,
            0);
  std::vector<std::string> alerts = Lines(ReadAll(work / "alerts.ndjson"));
  ASSERT_EQ(alerts.size(), 12u);

  std::vector<Example> examples =
      ExamplesOf(ReadAll(std::string(ES_SOURCE_DIR) + "/docs/consumers.md"));
  ASSERT_GE(examples.size(), 2u) << "docs/consumers.md has no worked examples";
  bool saw_kcat = false, saw_python = false;
  for (const Example& ex : examples) {
    fs::path file =
        work / ("example" + std::to_string(ex.line) + (ex.lang == "sh" ? ".sh" : ".py"));
    std::ofstream(file) << ex.code;
    std::string env = "export BROKERS=" + broker + " TOPIC='" + topic + "' PATH='" +
                      fs::path(ES_BINARY).parent_path().string() + "':$PATH; cd '" + work.string() +
                      "'; ";
    CommandResult r = Shell(env + (ex.lang == "sh" ? "bash -e " : "timeout 60 /usr/bin/python3 ") +
                            file.string());
    EXPECT_EQ(r.exit_code, 0) << "docs/consumers.md:" << ex.line << "\n" << ex.code << r.err;
    // Each example prints what it consumed: every alert id shows up.
    for (const std::string& a : alerts) {
      EXPECT_NE(r.out.find(AlertId(a)), std::string::npos)
          << "docs/consumers.md:" << ex.line << " output:\n"
          << r.out;
    }
    saw_kcat |= ex.code.find("kcat") != std::string::npos;
    saw_python |= ex.lang == "python";
  }
  EXPECT_TRUE(saw_kcat);
  EXPECT_TRUE(saw_python);
  fs::remove_all(work);
}

}  // namespace
}  // namespace eventsift::testing
