// deuteron._core's autotuning search (tune::SearchSession) for the Python
// driver (deuteron/autotune).  Everything crosses as JSON text:
//
//   s = _core.SearchSession(spec_json, device, default_config_json, strategy, seed, effort,
//                           max_generations, options_json="")
//   s.ask(n=0) -> list[str]            # configs (normalized JSON); [] when finished
//   s.tell(config_json, seconds|None)  # None: the config failed
//   s.best() -> (config_json, seconds) | None
//   s.finished(), s.generation, s.evaluations, s.strategy, s.describe(), s.default_config(),
//   s.log10_cardinality
//   _core.tune_strategy_names(), _core.tune_default_strategy()
//
// spec_json is tune::spec_to_json (lossless) or ConfigSpec::to_json's summary;
// device is the dict deuteron.runtime.device.device_info returns.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "deuteron/tune.h"

namespace nb = nanobind;

namespace {

using namespace deuteron;

json::Value dict_to_json(const nb::dict& d) {
  json::Object o;
  for (auto [k, v] : d) {
    std::string key = nb::cast<std::string>(nb::str(k));
    if (v.is_none()) o.emplace_back(key, json::Value());
    else if (nb::isinstance<nb::bool_>(v)) o.emplace_back(key, json::Value(nb::cast<bool>(v)));
    else if (nb::isinstance<nb::int_>(v)) o.emplace_back(key, json::Value(nb::cast<int64_t>(v)));
    else if (nb::isinstance<nb::float_>(v)) o.emplace_back(key, json::Value(nb::cast<double>(v)));
    else o.emplace_back(key, json::Value(nb::cast<std::string>(nb::str(v))));
  }
  return json::Value(std::move(o));
}

class PySearchSession {
 public:
  PySearchSession(const std::string& spec_json, const nb::dict& device, std::optional<std::string> default_config,
                  const std::string& strategy, uint64_t seed, const std::string& effort,
                  std::optional<int> max_generations, const std::string& options_json)
      : session_(tune::spec_from_json(json::parse(spec_json)), tune::device_from_json(dict_to_json(device)),
                 default_config && !default_config->empty() ? json::parse(*default_config) : json::Value(), strategy,
                 seed, effort, max_generations,
                 tune::SpaceOptions::from_json(options_json.empty() ? json::Value() : json::parse(options_json))) {}

  std::vector<std::string> ask(int n) {
    std::vector<json::Value> configs;
    {
      nb::gil_scoped_release release;  // the surrogate's model fit can take a moment
      configs = session_.ask(n);
    }
    std::vector<std::string> out;
    for (const auto& c : configs) out.push_back(json::dump(c));
    return out;
  }
  void tell(const std::string& config, std::optional<double> seconds) { session_.tell(json::parse(config), seconds); }
  std::optional<std::pair<std::string, double>> best() const {
    auto b = session_.best();
    if (!b) return std::nullopt;
    return std::make_pair(json::dump(b->first), b->second);
  }
  bool finished() const { return session_.finished(); }
  int generation() const { return session_.generation(); }
  int evaluations() const { return session_.evaluations(); }
  std::string strategy() const { return session_.strategy().name(); }
  std::string describe() const { return json::dump(session_.space().describe()); }
  std::string default_config() const { return json::dump(session_.space().default_config()); }
  double log10_cardinality() const { return session_.space().log10_cardinality(); }

 private:
  tune::SearchSession session_;
};

}  // namespace

void bind_tune(nb::module_& m) {
  nb::class_<PySearchSession>(m, "SearchSession")
      .def(nb::init<const std::string&, const nb::dict&, std::optional<std::string>, const std::string&, uint64_t,
                    const std::string&, std::optional<int>, const std::string&>(),
           nb::arg("spec_json"), nb::arg("device"), nb::arg("default_config_json").none(), nb::arg("strategy"),
           nb::arg("seed"), nb::arg("effort"), nb::arg("max_generations").none(), nb::arg("options_json") = "")
      .def("ask", &PySearchSession::ask, nb::arg("n") = 0)
      .def("tell", &PySearchSession::tell, nb::arg("config_json"), nb::arg("seconds").none())
      .def("best", &PySearchSession::best)
      .def("finished", &PySearchSession::finished)
      .def_prop_ro("generation", &PySearchSession::generation)
      .def_prop_ro("evaluations", &PySearchSession::evaluations)
      .def_prop_ro("strategy", &PySearchSession::strategy)
      .def_prop_ro("log10_cardinality", &PySearchSession::log10_cardinality)
      .def("describe", &PySearchSession::describe)
      .def("default_config", &PySearchSession::default_config);
  m.def("tune_strategy_names", [] { return tune::strategy_names(); });
  m.def("tune_default_strategy", [] { return tune::default_strategy_name(); });
  m.def("tune_spec_from_summary", [](const std::string& summary_json) {
    return json::dump(tune::spec_to_json(tune::spec_from_json(json::parse(summary_json))));
  });
}
