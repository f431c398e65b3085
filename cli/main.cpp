// main.cpp — the llmplan executable: hands argv to cli::run and returns its exit code.
#include "cli/app.h"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    try {
        std::ios::sync_with_stdio(false);
        return llmplan::cli::run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
    } catch (const std::exception& e) {  // run() catches everything; this is the last guard
        std::cerr << "llmplan: error: " << e.what() << "\n";
        return 1;
    }
}
