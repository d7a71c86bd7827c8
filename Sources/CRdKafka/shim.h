// Debian's librdkafka-dev 2.0.2: rdkafka.h for clients, rdkafka_mock.h for the
// in-process mock cluster that tests and `sagad dev-broker` run on.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
