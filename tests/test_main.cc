#define BOOST_TEST_MODULE shopsync
#include <boost/test/unit_test.hpp>
