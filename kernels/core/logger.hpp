// Routes engine messages to the user's callback (FFmpeg bridges it to av_log).
#pragma once

#include <string>

#include "espcn/espcn.h"

namespace espcn {

class Logger {
public:
    Logger() = default;
    Logger(espcn_log_fn fn, void *opaque, espcn_log_level level)
        : fn_(fn), opaque_(opaque), level_(level) {}

    void log(espcn_log_level level, const std::string &message) const {
        if (fn_ && level <= level_) fn_(opaque_, level, message.c_str());
    }
    void error(const std::string &m) const { log(ESPCN_LOG_ERROR, m); }
    void warning(const std::string &m) const { log(ESPCN_LOG_WARNING, m); }
    void info(const std::string &m) const { log(ESPCN_LOG_INFO, m); }
    void debug(const std::string &m) const { log(ESPCN_LOG_DEBUG, m); }

private:
    espcn_log_fn fn_ = nullptr;
    void *opaque_ = nullptr;
    espcn_log_level level_ = ESPCN_LOG_WARNING;
};

}  // namespace espcn
